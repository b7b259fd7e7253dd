import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunLogFile } from '@gradguard/reporter/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, gradguard } from './cli';

// Three real runs, written once by `train`: the exploding SimpleRNN, the same clipped, and a healthy small run.
const dir = mkdtempSync(join(tmpdir(), 'gradguard-logs-'));
const EXPLODING = join(dir, 'exploding.jsonl');
const CLIPPED = join(dir, 'clipped.jsonl');
const HEALTHY = join(dir, 'healthy.jsonl');
const HEALTHY2 = join(dir, 'healthy-again.jsonl');

beforeAll(() => {
  const base = ['train', '--recurrent-gain', '1.5', '--lr', '0.1', '--steps', '12', '--samples', '128', '-q'];
  expect(gradguard([...base, '--log', EXPLODING]).code).toBe(1);
  expect(gradguard([...base, '--clip-global-norm', '1', '--log', CLIPPED]).code).toBe(0); // problems found and handled
  const small = ['train', '--seq-len', '10', '--samples', '64', '--steps', '6', '--lr', '0.01', '-q'];
  expect(gradguard([...small, '--log', HEALTHY]).code).toBe(0);
  expect(gradguard([...small, '--log', HEALTHY2]).code).toBe(0);
}, 170_000);

describe('gradguard diagnose', () => {
  it('re-runs the detectors over the exploding run: explosion at step 0, NaN after, advice, exit 1', () => {
    const r = gradguard(['diagnose', EXPLODING]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^simple-rnn-adding: \d+ steps of simple_rnn_model \(1,153 params\), stopped/);
    expect(r.stdout).toMatch(/✖ step 0 critical exploding-gradient in layer "recurrent_1" \(onset\)\n\s+The global gradient norm is [\d.]+e\+\d/);
    expect(r.stdout).toMatch(/✖ step \d critical non-finite in layer "recurrent_1"/);
    expect(r.stdout).toContain('try clipByGlobalNorm:');
    expect(r.stdout).toMatch(/\d+ problems found \(exit code 1\)/);
    // The same verdict the live monitor wrote into the log.
    const j = JSON.parse(gradguard(['diagnose', EXPLODING, '--json']).stdout);
    const saved = readRunLogFile(EXPLODING).diagnoses;
    expect(j.diagnoses.map((d: { step: number; problem: string }) => `${d.step}:${d.problem}`)).toEqual(saved.map((d) => `${d.step}:${d.problem}`));
    expect(j).toMatchObject({ healthy: false, finished: true, truncated: false });
  });

  it('a healthy run: no problems, exit 0', () => {
    const r = gradguard(['diagnose', HEALTHY]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/No problems found: gradients finite, largest global norm [\d.]+\./);
    expect(r.stdout).toMatch(/\nhealthy\n$/);
  });

  it('reads a log cut off mid-line (a killed run) and says so', () => {
    const text = readFileSync(CLIPPED, 'utf8');
    const lines = text.split('\n');
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, `${lines.slice(0, 6).join('\n')}\n${lines[6]!.slice(0, 50)}`); // header + 5 records + half a line
    const r = gradguard(['diagnose', cut]);
    expect(r.code).toBe(1); // step 0's explosion is in the part that survived
    expect(r.stdout).toContain('unfinished (last line cut off: the run was killed mid-write)');
    expect(r.stdout).toContain('critical exploding-gradient');
  });

  it('missing, empty, garbage and foreign files: one line, a hint, exit 2', () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'nope.jsonl'), /^error: no such run log: .*nope\.jsonl\.\n {2}hint: Write one with `gradguard train --log run\.jsonl`/],
      [join(dir, 'empty.jsonl'), /^error: .*empty\.jsonl: the run log is empty\.\n {2}hint: Is this a gradguard run log\?/],
      [join(dir, 'garbage.jsonl'), /^error: .*garbage\.jsonl: line 1: not JSON: "\\u0000PK\\u0003\\u0004 binary"\.\n {2}hint: A run log is JSON Lines/],
      [join(dir, 'foreign.jsonl'), /^error: .*foreign\.jsonl: line 1: invalid run-log record at type: /],
    ];
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'garbage.jsonl'), '\u0000PK\u0003\u0004 binary\nmore\n');
    writeFileSync(join(dir, 'foreign.jsonl'), '{"type":"metrics","loss":1}\n');
    for (const [path, message] of cases) {
      const commands = [['diagnose', path]];
      // Every command reads logs through the same reader: check the other two on one case each.
      if (path.endsWith('garbage.jsonl')) commands.push(['report', path, '-o', join(dir, 'x.html')], ['compare', HEALTHY, path]);
      for (const command of commands) {
        const r = gradguard(command);
        expect(r.code, command.join(' ')).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
      }
    }
    // --debug adds the stack trace.
    expect(gradguard(['--debug', 'diagnose', join(dir, 'empty.jsonl')]).stderr).toMatch(/\n\s+at /);
  });
});

describe('gradguard diagnose | head', () => {
  it('exits quietly with its own code when the reader closes the pipe early (EPIPE)', async () => {
    const child = spawn(process.execPath, [CLI, 'diagnose', EXPLODING], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((r) => child.on('exit', r));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect([0, 1]).toContain(code);
  });
});

describe('gradguard report', () => {
  it('writes one self-contained HTML file (and TensorBoard events when asked), exit 0', () => {
    const out = join(dir, 'reports/exploding.html');
    const r = gradguard(['report', EXPLODING, '-o', out, '--tensorboard', join(dir, 'tb')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*reports\/exploding\.html: \d+ steps, \d+ diagnoses, non-finite from step \d/);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('var uPlot=');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).toContain('exploding-gradient');
    // The charts are drawn by the reporter's shared mountRunCharts (ids chart-loss/-norm/-layers are set when it
    // runs; the reporter's Chromium test checks the drawn pixels).
    expect(html).toContain("idPrefix: 'chart-'");
    expect(html).toContain('function mountRunCharts(');
    expect(readdirSync(join(dir, 'tb'))[0]).toMatch(/^events\.out\.tfevents\./);
  });

  it('needs -o', () => {
    const r = gradguard(['report', EXPLODING]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '-o, --out <report.html>' not specified");
  });
});

describe('gradguard compare', () => {
  it('unguarded vs clipped: finite or not, where they part ways, the verdict, exit 1', () => {
    const r = gradguard(['compare', EXPLODING, CLIPPED]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/mitigations\s+none\s+clipByGlobalNorm\(1\)/);
    expect(r.stdout).toMatch(/finite\s+no\s+yes/);
    expect(r.stdout).toMatch(/steps\s+\d+\s+12/);
    // Same seed, same data, same weights: step 0 agrees exactly; the clipped update makes step 1 differ.
    expect(r.stdout).toMatch(/They part ways at step 1: /);
    expect(r.stdout).toMatch(/B stayed finite where A went non-finite at step \d: B's setup prevented the explosion\./);
    const j = JSON.parse(gradguard(['compare', EXPLODING, CLIPPED, '--json']).stdout);
    expect(j.divergence.step).toBe(1);
    expect(j.a).toMatchObject({ finite: false, status: 'stopped' });
    expect(j.b).toMatchObject({ finite: true, status: 'completed', steps: 12, clippedSteps: 12 });
  });

  it('two identical healthy runs agree at every step, exit 0', () => {
    const r = gradguard(['compare', HEALTHY, HEALTHY2]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('The runs agree at every shared step.');
    expect(r.stdout).toMatch(/Both stayed finite/);
  });

  it('appending a NaN step to a copy makes them part ways there', () => {
    const copy = join(dir, 'nan-tail.jsonl');
    const log = readRunLogFile(HEALTHY);
    const lines = readFileSync(HEALTHY, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.find((l) => l.includes('"type":"step"'))!);
    writeFileSync(copy, `${lines.filter((l) => !l.includes('"type":"end"')).join('\n')}\n`);
    appendFileSync(copy, `${JSON.stringify({ ...last, step: log.steps.length, loss: 'NaN', nonFinite: 3 })}\n`);
    const other = join(dir, 'finite-tail.jsonl');
    writeFileSync(other, `${lines.filter((l) => !l.includes('"type":"end"')).join('\n')}\n${JSON.stringify({ ...last, step: log.steps.length })}\n`);
    const j = JSON.parse(gradguard(['compare', copy, other, '--json']).stdout);
    expect(j.divergence).toEqual({ step: log.steps.length, reason: 'only the first run has non-finite values' });
  });
});
