import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, gradguard } from './cli';

// Run logs written to hurt the terminal, the memory or the verdict of whoever reads them (issue 15). Every log here is
// written by hand, so these tests train nothing and each takes well under a second or two.
const dir = mkdtempSync(join(tmpdir(), 'gradguard-hostile-'));

/** Clears the screen, homes the cursor, retitles the window (OSC … BEL) and starts a C1 CSI colour. */
const H = 'run\u001b[2J\u001b[H\u001b]0;owned\u0007\u009b31m';

const header = (over: Record<string, unknown> = {}) => ({
  type: 'header', version: 1, runId: 'r1', name: H, startedAt: '2026-01-01T00:00:00.000Z', backend: 'cpu',
  model: { name: `model${H}`, params: 8, layers: [{ name: H, className: 'Dense', params: 8 }] }, config: { transform: `clip${H}` }, ...over,
});
/** Step i; from step 2 the gradients are NaN, from step 1 the norm is far above any bound: diagnoses name the layer. */
const step = (i: number, layer = H) => {
  const norm = i === 0 ? 1 : i === 1 ? 5e3 : 'NaN';
  const bad = i >= 2 ? 8 : 0;
  return { type: 'step', step: i, time: 10 * i, loss: i >= 2 ? 'NaN' : 1, globalNorm: norm, preClipNorm: norm, postClipNorm: norm, scale: 1, skipped: false, learningRate: 0.1, maxAbs: norm, nonFinite: bad, layers: [{ layer, size: 8, norm, maxAbs: norm, nonFinite: bad, zeros: 0 }] };
};
const diagnosis = { type: 'diagnosis', problem: 'non-finite', severity: 'critical', phase: 'onset', step: 2, layer: H, detector: `d${H}`, message: `message ${H}`, evidence: { why: H }, advice: [{ remedy: 'skipNonFinite', detail: `detail ${H}` }] };
const end = { type: 'end', status: 'stopped', steps: 3, endedAt: '2026-01-01T00:00:01.000Z', reason: `reason ${H}` };

const jsonl = (records: readonly unknown[]): string => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
function write(name: string, records: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, jsonl(records));
  return path;
}
const HOSTILE = write('hostile.jsonl', [header(), step(0), step(1), step(2), diagnosis, end]);

/** Runs the built CLI into a pipe and keeps the raw bytes of stdout and stderr. */
function raw(args: readonly string[], timeout = 20_000): { code: number; bytes: Buffer; text: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { timeout, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  const bytes = Buffer.concat([r.stdout, r.stderr]);
  return { code: r.status ?? -1, bytes, text: bytes.toString('utf8'), ms: performance.now() - t0 };
}

/** ESC and BEL bytes, and C1 controls (U+0080–U+009F, i.e. UTF-8 C2 80–C2 9F; a lone byte in that range is part of another character). */
function controls(r: { bytes: Buffer; text: string }): { esc: number; bel: number; c1: number } {
  return { esc: r.bytes.filter((b) => b === 0x1b).length, bel: r.bytes.filter((b) => b === 0x07).length, c1: (r.text.match(/[\u0080-\u009f]/g) ?? []).length };
}

describe('terminal injection: nothing from a log drives the terminal', () => {
  it('diagnose and compare print run, layer, transform and message text escaped: 0 ESC, 0 BEL, 0 C1', () => {
    const runs = [
      ['diagnose', HOSTILE],
      ['diagnose', HOSTILE, '--json'],
      ['compare', HOSTILE, HOSTILE],
      ['compare', HOSTILE, HOSTILE, '--json'],
      ['report', HOSTILE, '-o', join(dir, 'hostile.html')],
    ];
    for (const args of runs) {
      const r = raw(args);
      expect(r.code, `${args.join(' ')}: ${r.text}`).toBe(args[0] === 'report' ? 0 : 1);
      expect(controls(r), args.join(' ')).toEqual({ esc: 0, bel: 0, c1: 0 }); // before: diagnose 24/8/8, compare 12/4/4
    }
    // The names are still there for a human, visibly escaped; the JSON is still the exact value.
    const d = raw(['diagnose', HOSTILE]).text;
    expect(d).toContain('run\\u001b[2J\\u001b[H\\u001b]0;owned\\u0007\\u009b31m: 3 steps of modelrun\\u001b[2J');
    expect(d).toMatch(/critical non-finite in layer "run\\u001b\[2J/);
    expect(raw(['compare', HOSTILE, HOSTILE]).text).toMatch(/mitigations\s+cliprun\\u001b\[2J\\u001b\[H\\u001b\]0;owned\\u0007\\u009b31m\s+cliprun\\u001b/);
    expect(JSON.parse(raw(['diagnose', HOSTILE, '--json']).text).name).toBe(H);
  });

  it('errors that quote a log or a path are escaped too', () => {
    const badValue = write('bad-value.jsonl', [header(), { type: 'step', step: H }]);
    // A line that is not JSON is quoted in the error (JSON.stringify leaves C1 controls raw), in a file whose name is hostile too.
    const notJson = join(dir, `not-json${H}`);
    writeFileSync(notJson, `${H}\n`);
    for (const args of [['diagnose', badValue], ['diagnose', join(dir, `missing${H}.jsonl`)], ['diagnose', notJson], ['compare', HOSTILE, notJson]]) {
      const r = raw(args);
      expect(r.code).toBe(2);
      expect(r.text).toMatch(/^error: /);
      expect(controls(r), r.text).toEqual({ esc: 0, bel: 0, c1: 0 });
    }
  });
});

describe('what a log reader refuses', () => {
  it('/dev/zero, /dev/urandom and a directory: exit 2 at once with one line naming the path', () => {
    for (const [path, kind] of [['/dev/zero', 'a character device'], ['/dev/urandom', 'a character device'], [dir, 'a directory']] as const) {
      // Every command reads logs through the same reader: compare and report on one case each.
      const commands = [['diagnose', path], ...(path === '/dev/zero' ? [['compare', HOSTILE, path], ['report', path, '-o', join(dir, 'x.html')]] : [])];
      for (const command of commands) {
        const r = raw(command, 10_000);
        expect(r.code, command.join(' ')).toBe(2);
        expect(r.text).toMatch(new RegExp(`^error: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is ${kind}, not a run log\\.\\n {2}hint: `));
        expect(r.ms).toBeLessThan(5000); // before: diagnose /dev/zero was at 211 MB RSS after 3 s and growing
      }
    }
  });

  it('a FIFO fed by a writer process is read like the file', async () => {
    const fifo = join(dir, 'run.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${HOSTILE}" > "${fifo}"`], { stdio: 'ignore' });
    const written = new Promise((resolve) => writer.on('exit', resolve));
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'diagnose', fifo, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (b) => (out += String(b)));
      c.stderr.on('data', (b) => (out += String(b)));
      c.on('exit', (code) => resolve({ code, out }));
    });
    expect(await written).toBe(0);
    expect(r.code, r.out).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ name: H, steps: 3, finished: true, healthy: false });
  });

  it('a log over --max-log-bytes: exit 2 naming the flag; raising it reads the log', () => {
    const r = gradguard(['diagnose', HOSTILE, '--max-log-bytes', '1KiB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*hostile\.jsonl is larger than the 1 KiB a run log may hold \(\d+ bytes\)\.\n {2}hint: .*--max-log-bytes/);
    expect(gradguard(['diagnose', HOSTILE, '--max-log-bytes', '1MiB']).code).toBe(1);
    expect(gradguard(['diagnose', HOSTILE, '--max-log-bytes', 'lots']).stderr).toMatch(/--max-log-bytes.*must be a size in bytes/);
  });
});

describe('--salvage, and steps out of order', () => {
  const middle = write('bad-middle.jsonl', [header({ name: 'salvage', model: undefined }), step(0, 'rnn'), '{"type":"step","step":1,"tim', step(1, 'rnn'), step(1, 'rnn'), step(0, 'rnn'), step(2, 'rnn'), end]);

  it('without it, a bad line in the middle, a duplicate step or one out of order rejects the log with its line number', () => {
    const r = gradguard(['diagnose', middle]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*bad-middle\.jsonl: line 3: not JSON: .*\n {2}hint: .*--salvage/);
    const dup = write('duplicate.jsonl', [header(), step(0, 'rnn'), step(1, 'rnn'), step(1, 'rnn')]);
    expect(gradguard(['diagnose', dup]).stderr).toMatch(/duplicate\.jsonl: line 4: step 1 appears twice \(a duplicate step\)\./);
    const back = write('backwards.jsonl', [header(), step(0, 'rnn'), step(2, 'rnn'), step(1, 'rnn')]);
    expect(gradguard(['compare', back, back]).stderr).toMatch(/backwards\.jsonl: line 4: step 1 comes after step 2 \(steps out of order\)\./);
  });

  it('diagnose, report and compare read around the bad lines and say which they skipped', () => {
    const d = gradguard(['diagnose', middle, '--salvage']);
    expect(d.code, d.stderr).toBe(1);
    expect(d.stdout).toContain(
      'salvage: 3 steps, stopped\nskipped 3 bad lines (--salvage):\n  line 3: not JSON: "{\\"type\\":\\"step\\",\\"step\\":1,\\"tim".\n' +
        '  line 5: step 1 appears twice (a duplicate step).\n  line 6: step 0 comes after step 1 (steps out of order).\n',
    );
    const j = JSON.parse(gradguard(['diagnose', middle, '--salvage', '--json']).stdout);
    expect(j.steps).toBe(3);
    expect(j.skipped).toMatchObject({ count: 3, lines: [{ line: 3 }, { line: 5 }, { line: 6 }] });
    const rep = gradguard(['report', middle, '--salvage', '-o', join(dir, 'salvaged.html')]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/: 3 steps, .*\nskipped 3 bad lines \(--salvage\):\n {2}line 3: /);
    const c = gradguard(['compare', HOSTILE, middle, '--salvage']);
    expect(c.stdout).toMatch(/\nB: skipped 3 bad lines \(--salvage\):\n {2}line 3: /);
    expect(c.stdout).not.toContain('A: skipped');
  });

  it('the cut-off last line of a killed run is still read without --salvage', () => {
    const text = jsonl([header(), step(0, 'rnn'), step(1, 'rnn')]);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text + JSON.stringify(step(2, 'rnn')).slice(0, 40));
    const r = gradguard(['diagnose', cut, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: 2, truncated: true, skipped: { count: 0 } });
  });
});

describe('a full disk', () => {
  it('report --tensorboard past the file-size limit (EFBIG, as ENOSPC on a full disk) names the events file', () => {
    const tb = join(dir, 'tb-full');
    mkdirSync(tb);
    // ulimit -f 0: any write to a regular file fails (Node ignores SIGXFSZ); /dev/null takes the HTML report.
    const r = spawnSync('sh', ['-c', `ulimit -f 0; exec "${process.execPath}" "${CLI}" report "${HOSTILE}" -o /dev/null --tensorboard "${tb}"`], { encoding: 'utf8', timeout: 20_000 });
    const [file] = readdirSync(tb);
    expect(file).toMatch(/^events\.out\.tfevents\.\d+\./);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error: cannot write TensorBoard events "${join(tb, file!)}": EFBIG: file too large, write.\n  hint: Free space on that disk`);
  });
});
