import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiagnosisRecord, HeaderRecord, StepRecord } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { createJsonlFileSink, readRunLogFile } from './node';

const header: HeaderRecord = { type: 'header', version: 1, runId: 'r', name: 'batched', startedAt: '2026-12-02T00:00:00.000Z', config: {} };

function step(i: number): StepRecord {
  return {
    type: 'step', step: i, time: i, loss: i, globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false,
    learningRate: 0.01, maxAbs: 1, nonFinite: 0, layers: [{ layer: 'd', size: 4, norm: 1, maxAbs: 1, nonFinite: 0, zeros: 0 }],
  };
}

const diagnosis: DiagnosisRecord = {
  type: 'diagnosis', problem: 'gradient-spike', severity: 'warning', phase: 'onset', step: 4, detector: 'detectGradientSpike',
  message: 'spike', evidence: {}, advice: [],
};

const lines = (path: string): number => readFileSync(path, 'utf8').split('\n').length - 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('createJsonlFileSink batching', () => {
  it('writes the header at once, holds step records until flushMs, and writes them all with the next diagnosis', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradguard-jsonl-')), 'run.jsonl');
    const sink = createJsonlFileSink(path, { flushMs: 10_000 });
    sink.header(header);
    expect(lines(path)).toBe(1);
    for (let i = 0; i < 5; i++) sink.step(step(i));
    expect(lines(path)).toBe(1); // one write per batch, not one per step
    sink.diagnosis(diagnosis);
    expect(lines(path)).toBe(7); // the diagnosis and every step before it
    sink.step(step(5));
    expect(lines(path)).toBe(7);
    await sink.close!();
    const log = readRunLogFile(path);
    expect(log.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.diagnoses).toHaveLength(1);
  });

  it('writes buffered steps by the flush deadline without any further record', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradguard-jsonl-')), 'run.jsonl');
    const sink = createJsonlFileSink(path, { flushMs: 20 });
    sink.header(header);
    for (let i = 0; i < 3; i++) sink.step(step(i));
    expect(lines(path)).toBe(1);
    await sleep(80);
    expect(lines(path)).toBe(4);
    await sink.close!();
  });

  it('with flushMs 0 (or fsync) writes every record the moment it happens', async () => {
    for (const options of [{ flushMs: 0 }, { fsync: true }]) {
      const path = join(mkdtempSync(join(tmpdir(), 'gradguard-jsonl-')), 'run.jsonl');
      const sink = createJsonlFileSink(path, options);
      sink.header(header);
      sink.step(step(0));
      expect(lines(path)).toBe(2);
      sink.step(step(1));
      expect(lines(path)).toBe(3);
      await sink.close!();
    }
  });

  it('writes at once past 64 KiB buffered, whatever the deadline', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradguard-jsonl-')), 'run.jsonl');
    const sink = createJsonlFileSink(path, { flushMs: 60_000 });
    sink.header(header);
    let i = 0;
    while (lines(path) === 1) sink.step(step(i++));
    const written = readFileSync(path, 'utf8').length;
    expect(written).toBeGreaterThanOrEqual(1 << 16);
    expect(written).toBeLessThan((1 << 16) + 1000); // one step line past the threshold, no more
    await sink.close!();
    expect(readRunLogFile(path).steps).toHaveLength(i);
  });

  it('refuses a flushMs that is not a number of milliseconds, naming it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradguard-jsonl-')), 'run.jsonl');
    expect(() => createJsonlFileSink(path, { flushMs: -1 })).toThrow(/flushMs/);
    expect(() => createJsonlFileSink(path, { flushMs: Number.NaN })).toThrow(/flushMs/);
  });
});
