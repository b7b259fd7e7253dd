import { mkdtempSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseRunLog, type Diagnosis, type StepStatistics } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { createConsoleSink, createJsonlFileSink, readRunLogFile } from './node';
import { createRecorder } from './recorder';

function stats(step: number, norm: number, loss: number): StepStatistics {
  return {
    step,
    variables: [],
    layers: [{ layer: 'rnn', size: 8, norm, maxAbs: norm / 2, nonFinite: Number.isFinite(norm) ? 0 : 8, zeros: 2 }],
    globalNorm: norm,
    preClipNorm: norm,
    postClipNorm: Math.min(norm, 1),
    scale: Number.isFinite(norm) ? Math.min(1, 1 / norm) : Number.NaN,
    skipped: false,
    maxAbs: norm / 2,
    nonFinite: Number.isFinite(norm) ? 0 : 8,
    size: 8,
    loss,
    learningRate: 0.1,
  };
}

const diagnosis: Diagnosis = {
  problem: 'non-finite',
  severity: 'critical',
  phase: 'onset',
  step: 2,
  layer: 'rnn',
  detector: 'detectNonFinite',
  message: '8 of 8 gradient entries are NaN/Infinity.',
  evidence: { nonFinite: 8, globalNorm: Number.NaN },
  advice: [{ remedy: 'skipNonFinite', detail: 'Skip them.' }],
};

const model = {
  name: 'm',
  countParams: () => 13,
  layers: [
    { name: 'rnn', getClassName: () => 'SimpleRNN', countParams: () => 8, getConfig: () => ({ activation: 'relu' }) },
    { name: 'head', getClassName: () => 'Dense', countParams: () => 5 },
  ],
};

function tmp(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'gradguard-reporter-')), name);
}

describe('createRecorder + JSONL file sink', () => {
  it('writes header, steps, diagnoses and end that read back validated, NaN included', async () => {
    const path = tmp('run.jsonl');
    let t = 1000;
    const rec = createRecorder({ name: 'demo', sinks: [createJsonlFileSink(path)], model, backend: 'cpu', config: { lr: 0.1 }, now: () => t });
    rec.step(stats(0, 5, 1.5));
    t += 40;
    rec.step(stats(1, 3e4, 2));
    rec.step(stats(2, Number.NaN, Number.NaN));
    rec.diagnosis(diagnosis);
    await rec.end('stopped', { reason: 'gradients turned NaN' });
    const log = readRunLogFile(path);
    expect(log.header).toMatchObject({ name: 'demo', backend: 'cpu', config: { lr: 0.1 } });
    expect(log.header.model!.layers).toEqual([
      { name: 'rnn', className: 'SimpleRNN', params: 8, activation: 'relu' },
      { name: 'head', className: 'Dense', params: 5 },
    ]);
    expect(log.steps.map((s) => s.time)).toEqual([0, 40, 40]);
    expect(log.steps[1]!.scale).toBeCloseTo(1 / 3e4, 12);
    expect(log.steps[2]!.globalNorm).toBeNaN();
    expect(log.steps[2]!.loss).toBeNaN();
    expect(log.diagnoses[0]).toMatchObject({ problem: 'non-finite', layer: 'rnn', step: 2 });
    expect(log.diagnoses[0]!.evidence.globalNorm).toBeNaN();
    expect(log.end).toMatchObject({ status: 'stopped', steps: 3, reason: 'gradients turned NaN' });
    expect(log.end!.finalLoss).toBeNaN();
  });

  it('leaves every finished record readable when the run dies mid-write (no end, partial last line)', async () => {
    const path = tmp('crash.jsonl');
    const rec = createRecorder({ name: 'crash', sinks: [createJsonlFileSink(path, { flushMs: 20 })] });
    for (let i = 0; i < 5; i++) rec.step(stats(i, 2, 1));
    await new Promise((r) => setTimeout(r, 60)); // past the flush deadline: the steps are on disk
    // The process dies here: no end(), no close(). Simulate a write cut off mid-line.
    appendFileSync(path, '{"type":"step","step":5,"ti');
    const log = readRunLogFile(path);
    expect(log.steps).toHaveLength(5);
    expect(log.truncated).toBe(true);
    expect(log.end).toBeUndefined();
  });

  it('reports a missing or garbage file clearly', () => {
    expect(() => readRunLogFile('/nonexistent/run.jsonl')).toThrow(/no such run log: \/nonexistent\/run.jsonl.*gradguard train --log/);
    const junk = tmp('junk.jsonl');
    appendFileSync(junk, '\u0000\u0001binary\n');
    expect(() => readRunLogFile(junk)).toThrow(/junk.jsonl: line 1: not JSON/);
    expect(() => createJsonlFileSink('/nonexistent-dir/x.jsonl')).toThrow(/cannot open run log .* Check that the directory exists/);
  });

  it('keeps recording to the other sinks when one throws, and rethrows at end', async () => {
    const path = tmp('ok.jsonl');
    const bad = { header() {}, step() { throw new Error('disk full'); }, diagnosis() {}, end() {} };
    const rec = createRecorder({ name: 'x', sinks: [bad, createJsonlFileSink(path)] });
    rec.step(stats(0, 1, 1));
    await expect(rec.end('completed')).rejects.toThrow('disk full');
    expect(parseRunLog(readFileSync(path, 'utf8')).steps).toHaveLength(1);
  });
});

describe('createConsoleSink', () => {
  it('prints progress lines, each diagnosis with advice, and the per-layer table when not a terminal', async () => {
    let text = '';
    const stream = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } }) as unknown as NodeJS.WriteStream;
    const rec = createRecorder({ name: 'demo', sinks: [createConsoleSink({ stream, totalSteps: 10, label: 'unguarded' })], model });
    for (let i = 0; i < 10; i++) rec.step(stats(i, 2 ** i, 1 / (i + 1)));
    rec.diagnosis(diagnosis);
    await rec.end('completed');
    expect(text).toContain('▶ unguarded: demo — m (13 params)');
    expect(text).toContain('step    1/10  loss 1  ‖g‖ 1');
    expect(text).toContain('step   10/10  loss 0.1  ‖g‖ 512  clip ×0.001953');
    expect(text).toContain('✖ step 2 critical non-finite in layer "rnn" (onset)');
    expect(text).toContain('try skipNonFinite: Skip them.');
    expect(text).toMatch(/layer\s+‖g‖\s+max\|g\|\s+non-finite\s+zeros\n\s+rnn\s+512\s+256\s+0\s+25\.0%/);
    expect(text).toContain('completed after 10 steps, final loss 0.1');
    expect(text).not.toContain('\x1b['); // no colors or cursor codes off a terminal
  });
});
