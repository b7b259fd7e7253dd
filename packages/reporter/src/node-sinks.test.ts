import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunLog, StepRecord } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { createJsonlFileSink, writeTensorBoardEvents } from './node';
import { wallTimeOf } from './tensorboard';

const step = (i: number): StepRecord => ({
  type: 'step', step: i, time: 1000 * i, loss: 1, globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false,
  learningRate: 0.1, maxAbs: 1, nonFinite: 0, layers: [{ layer: 'dense', size: 4, norm: 1, maxAbs: 1, nonFinite: 0, zeros: 0 }],
});

/** The wall time (field 1, a double) of each event in a TFRecord file. */
function wallTimes(path: string): number[] {
  const b = readFileSync(path);
  const out: number[] = [];
  for (let p = 0; p < b.length; ) {
    const len = Number(b.readBigUInt64LE(p));
    const data = b.subarray(p + 12, p + 12 + len);
    expect(data[0]).toBe(0x09); // field 1, 64-bit
    out.push(data.readDoubleLE(1));
    p += 12 + len + 4;
  }
  return out;
}

describe('a full disk: write errors name the file', () => {
  it('the JSONL sink on /dev/full (ENOSPC) says which file it could not write', () => {
    const sink = createJsonlFileSink('/dev/full');
    expect(() => sink.header({ type: 'header', version: 1, runId: 'r', name: 'n', startedAt: '2026-01-01T00:00:00.000Z', config: {} })).toThrow(
      'cannot write run log "/dev/full": ENOSPC: no space left on device, write. Free space on that disk or write to another one.',
    );
  });
});

describe('TensorBoard export of a log whose startedAt is not a date', () => {
  it('uses the current time: no events.out.tfevents.NaN, and every wall time is finite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-nan-'));
    const log: RunLog = {
      header: { type: 'header', version: 1, runId: 'r', name: 'n', startedAt: 'last tuesday', config: {} },
      steps: [step(0), step(1), step(2)],
      diagnoses: [],
      end: undefined,
      truncated: false,
    };
    const before = Date.now() / 1000;
    const path = writeTensorBoardEvents(join(dir, 'tb'), log, { host: 'h' });
    const after = Date.now() / 1000;
    expect(readdirSync(join(dir, 'tb'))).toHaveLength(1);
    const seconds = Number(/events\.out\.tfevents\.(\d+)\.h\./.exec(path)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before));
    expect(seconds).toBeLessThanOrEqual(after);
    const times = wallTimes(path);
    expect(times).toHaveLength(4); // file version + 3 steps
    expect(times[0]).toBeGreaterThanOrEqual(before - 0.001);
    expect(times.slice(1).map((t) => Math.round(t - times[0]!))).toEqual([0, 1, 2]); // step.time counts from the start
  });

  it('wallTimeOf: a date gives its seconds; NaN, the empty string and dates before 1970 give now', () => {
    expect(wallTimeOf('2026-01-02T03:04:05.500Z')).toBe(Date.parse('2026-01-02T03:04:05.500Z') / 1000);
    for (const bad of ['last tuesday', '', 'NaN', '1969-12-31T23:59:59Z', '+275760-09-13T00:00:00.001Z']) expect(wallTimeOf(bad, () => 42_000)).toBe(42);
  });
});
