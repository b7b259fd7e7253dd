import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunLogFile } from '@gradguard/reporter/node';
import { describe, expect, it } from 'vitest';
import { gradguard } from './cli';

/** TFRecord framing only (the reporter's own tests decode the protos): returns each record's payload. */
function tfRecords(path: string): Buffer[] {
  const b = readFileSync(path);
  const out: Buffer[] = [];
  for (let p = 0; p < b.length; ) {
    const len = Number(b.readBigUInt64LE(p));
    out.push(b.subarray(p + 12, p + 12 + len));
    p += 16 + len;
  }
  return out;
}

// The exploding setup of ENVIRONMENT.md, few steps: SimpleRNN(32, relu), orthogonal recurrent gain 1.5, T 50, SGD 0.1.
const EXPLODING = ['train', '--recurrent-gain', '1.5', '--lr', '0.1', '--steps', '12', '--samples', '128'];

describe('gradguard train', () => {
  it('unguarded: explodes, stops at the first NaN, writes log, HTML and TensorBoard, exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-'));
    const r = gradguard([...EXPLODING, '--log', join(dir, 'logs/run.jsonl'), '--html', join(dir, 'run.html'), '--tensorboard', join(dir, 'tb')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/gradguard train — simple-rnn on adding \(input \[50, 2\]\), sgd lr 0.1, batch 32, mitigations: none, seed 1/);
    expect(r.stderr).toMatch(/✖ step 0 critical exploding-gradient in layer "recurrent_1" \(onset\)/);
    expect(r.stdout).toMatch(/steps\s+\d+ \(stopped: loss and gradients non-finite since step \d: the weights are lost\)/);
    expect(r.stdout).toMatch(/weights finite\s+no/);
    expect(r.stdout).toContain('run failed (exit code 1)');

    const log = readRunLogFile(join(dir, 'logs/run.jsonl')); // the log's directory was created
    expect(log.end).toMatchObject({ status: 'stopped' });
    expect(log.header.config).toMatchObject({ model: 'simple-rnn', recurrentGain: 1.5, learningRate: 0.1, transform: 'none' });
    expect(log.steps[0]!.preClipNorm).toBeGreaterThan(1e4);
    expect(log.steps.at(-1)!.nonFinite).toBeGreaterThan(0);

    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    expect(html).toContain('var uPlot='); // the chart library is inlined
    expect(html).toContain('exploding-gradient');

    const [events] = readdirSync(join(dir, 'tb'));
    expect(events).toMatch(/^events\.out\.tfevents\.\d{10}\./);
    const records = tfRecords(join(dir, 'tb', events!));
    expect(records[0]!.toString('latin1')).toContain('brain.Event:2');
    expect(records).toHaveLength(log.steps.length + 1);
    expect(records[1]!.toString('latin1')).toContain('layer_norm/recurrent_1');
  });

  it('--skip-on-spike --clip-layer-norm 1, --ada-gc: the 2025–26 rules from the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-'));
    const r = gradguard([...EXPLODING, '--skip-on-spike', '--clip-layer-norm', '1', '--log', join(dir, 'run.jsonl'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.config.transform).toBe('skipOnSpike() → clipByGroupedGlobalNorm(1, by layer)');
    expect(j).toMatchObject({ steps: 12, weightsFinite: true, firstNonFiniteStep: null });
    const log = readRunLogFile(join(dir, 'run.jsonl'));
    // Two layers (the recurrent layer and the head), each clipped to norm 1 on its own: the global norm of the update
    // is at most sqrt(2), and above 1 on the exploding first step (global clipping would have held it at 1).
    for (const s of log.steps) expect(s.postClipNorm).toBeLessThanOrEqual(Math.SQRT2 * (1 + 1e-5));
    expect(log.steps[0]!.preClipNorm).toBeGreaterThan(1e4);
    expect(log.steps[0]!.postClipNorm).toBeGreaterThan(1.01);
    // AdaGC's warm-up clips the global norm to λ_abs = 1 (its first 100 steps).
    const a = gradguard([...EXPLODING, '--ada-gc', '--log', join(dir, 'ada.jsonl'), '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).config.transform).toBe('adaGC()');
    for (const s of readRunLogFile(join(dir, 'ada.jsonl')).steps) expect(s.postClipNorm).toBeLessThanOrEqual(1 + 1e-5);
  });

  it('--clip-global-norm 1: the same run stays finite, every applied norm is at most 1, --json summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-'));
    const r = gradguard([...EXPLODING, '--clip-global-norm', '1', '--log', join(dir, 'run.jsonl'), '--json']);
    // The pre-clip gradients still explode (the monitor says so), but the clip held: problems found and handled, 0.
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ steps: 12, stoppedEarly: false, firstNonFiniteStep: null, weightsFinite: true, clippedSteps: 12, healthy: false, outcome: 'handled', exitCode: 0 });
    expect(j.config.transform).toBe('clipByGlobalNorm(1)');
    expect(j.maxPreClipNorm).toBeGreaterThan(1e4);
    expect(j.diagnoses[0]).toMatchObject({ step: 0, problem: 'exploding-gradient', severity: 'critical', layer: 'recurrent_1' });
    const log = readRunLogFile(join(dir, 'run.jsonl'));
    for (const s of log.steps) {
      expect(s.postClipNorm).toBeLessThanOrEqual(1 + 1e-4);
      expect(s.scale).toBeCloseTo(s.postClipNorm / s.preClipNorm, 6);
    }
  });

  it('a small healthy run exits 0', () => {
    const r = gradguard(['train', '--seq-len', '10', '--samples', '64', '--steps', '6', '--lr', '0.01', '-q']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/steps\s+6\n/);
    expect(r.stdout).toContain('healthy: no problems found');
  });

  it('trains LSTM, GRU and MLP models with adam, rmsprop and momentum on the tasks of @gradguard/models', () => {
    const runs = [
      ['lstm', 'adam', 'adding', 'mse'],
      ['gru', 'rmsprop', 'temporal-order', 'accuracy'],
      ['mlp', 'momentum', 'two-spirals', 'accuracy'],
    ] as const;
    for (const [model, optimizer, task, metric] of runs) {
      const r = gradguard(['train', '--model', model, '--optimizer', optimizer, '--task', task, '--lr', '0.003', '--seq-len', '10', '--units', '8', '--samples', '64', '--steps', '3', '--json']);
      expect(r.code, `${model}: ${r.stderr}`).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ steps: 3, weightsFinite: true, healthy: true, config: { model, optimizer, task } });
      expect(j.evaluation.metric).toBe(metric);
      expect(Number.isFinite(j.evaluation.value)).toBe(true);
    }
    // Shapes that do not fit are a usage error naming the fix.
    const bad = gradguard(['train', '--model', 'mlp', '--task', 'adding', '--steps', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: buildModel: an MLP needs a flat-input task, but adding has input shape \[50, 2\]\.\n {2}hint: An MLP takes flat inputs: use --task two-spirals/);
  });

  it('chains mitigations in a fixed order; skip-non-finite + clip-value + LR back-off keeps the exploding run finite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-'));
    const r = gradguard([...EXPLODING, '--lr-backoff', '--clip-value', '0.5', '--skip-non-finite', '--log', join(dir, 'run.jsonl'), '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.config.transform).toBe('skipNonFinite() → clipByValue(0.5) → lrBackoff()');
    expect(j).toMatchObject({ steps: 12, weightsFinite: true, firstNonFiniteStep: null });
    const log = readRunLogFile(join(dir, 'run.jsonl'));
    // Back-off halves the rate at the exploding-gradient onset (step 0); later steps run below 0.1.
    expect(log.steps[0]!.learningRate).toBeCloseTo(0.1, 9);
    expect(Math.min(...log.steps.map((s) => s.learningRate!))).toBeLessThanOrEqual(0.05 + 1e-9);
    // clipByValue bounds every entry: max|g| after clipping is <= 0.5, so each layer's applied norm is <= 0.5·sqrt(size).
    expect(log.steps.every((s) => s.postClipNorm <= 0.5 * Math.sqrt(s.layers.reduce((a, l) => a + l.size, 0)) + 1e-6)).toBe(true);
  });

  it('a mitigation that gives up (rollback that keeps diverging) ends the run as failed: exit 1, not a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-'));
    const r = gradguard([...EXPLODING, '--rollback', '--log', join(dir, 'run.jsonl'), '-q']);
    expect(r.code, r.stderr).toBe(1);
    // Rollback restores the initial weights and halves the rate each time; at lr 0.1 → 0.0125 this RNN still
    // diverges, so rollback gives up after its limit, with a hint.
    expect(r.stdout).toMatch(/^training stopped after (\d+) steps: rollback: at step \d+ the loss is (NaN|Infinity) again; the last good weights were restored \d+ times and the run diverged each time, down to learning rate [\d.]+\.\n {2}hint: Lower the base learning rate/);
    const log = readRunLogFile(join(dir, 'run.jsonl'));
    expect(log.end).toMatchObject({ status: 'failed' });
    expect(log.end!.steps).toBe(Number(/after (\d+) steps/.exec(r.stdout)![1]));
    expect(log.end!.reason).toContain('diverged each time');
  });

  it('rejects bad flags and unwritable paths with one line and exit code 2', () => {
    const m = gradguard(['train', '--model', 'transformer']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/argument 'transformer' is invalid. Allowed choices are simple-rnn, lstm, gru, mlp/);
    const lr = gradguard(['train', '--lr', '-1']);
    expect(lr.code).toBe(2);
    expect(lr.stderr).toContain("option '--lr <rate>' argument '-1' is invalid. must be a number > 0.");
    const p = gradguard(['train', '--auto-clip', '150']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('must be a number from 0 to 100');
    const file = join(mkdtempSync(join(tmpdir(), 'gradguard-train-')), 'a-file');
    writeFileSync(file, 'not a directory');
    const w = gradguard(['train', '--steps', '1', '--samples', '32', '--seq-len', '4', '--log', join(file, 'run.jsonl')]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/^error: .*a-file\/run\.jsonl.*\n {2}hint: Check that the directory exists and is writable\./m);
    // An HTML report path that is a directory is refused before training (it used to fail after the whole run).
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-train-dir-'));
    const h = gradguard(['train', '--steps', '400', '--html', dir]);
    expect(h.code).toBe(2);
    expect(h.stderr).toMatch(/^error: cannot write .*gradguard-train-dir-.*: it is a directory\./m);
    expect(`${h.stdout}${h.stderr}`).not.toMatch(/step\s+1\b/); // nothing was trained
    for (const e of [m, lr, p, w, h]) expect(e.stderr).not.toMatch(/\n\s+at /);
  });
});
