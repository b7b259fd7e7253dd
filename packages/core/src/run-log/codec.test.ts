import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRunLogRecord, parseRunLog, parseRunLogRecord } from './codec';
import { RUN_LOG_VERSION, type RunLogRecord } from './schema';

const header: RunLogRecord = {
  type: 'header',
  version: RUN_LOG_VERSION,
  runId: 'r1',
  name: 'test',
  startedAt: '2026-01-01T00:00:00.000Z',
  config: { lr: 0.1 },
};
const stepRec = (i: number, norm: number): RunLogRecord => ({
  type: 'step',
  step: i,
  time: i * 10,
  loss: norm,
  globalNorm: norm,
  preClipNorm: norm,
  postClipNorm: Math.min(norm, 1),
  scale: 1,
  skipped: false,
  learningRate: 0.1,
  maxAbs: norm,
  nonFinite: 0,
  layers: [{ layer: 'rnn', size: 4, norm, maxAbs: norm, nonFinite: 0, zeros: 0 }],
});

describe('run-log codec', () => {
  it('round-trips NaN and ±Infinity, which JSON cannot hold', () => {
    const line = encodeRunLogRecord(stepRec(3, Number.NaN));
    expect(line).toContain('"globalNorm":"NaN"');
    const back = parseRunLogRecord(JSON.parse(line)) as Extract<RunLogRecord, { type: 'step' }>;
    expect(back.globalNorm).toBeNaN();
    const inf = parseRunLogRecord(JSON.parse(encodeRunLogRecord(stepRec(4, Number.POSITIVE_INFINITY))));
    expect((inf as { loss: number }).loss).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads a whole log, and keeps every finished record when the last line was cut off mid-write', () => {
    const full = [header, stepRec(0, 1), stepRec(1, 2)].map(encodeRunLogRecord).join('\n') + '\n';
    const log = parseRunLog(full);
    expect(log.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(log.truncated).toBe(false);
    expect(log.end).toBeUndefined();
    const cut = full + encodeRunLogRecord(stepRec(2, 3)).slice(0, 25);
    const partial = parseRunLog(cut);
    expect(partial.truncated).toBe(true);
    expect(partial.steps).toHaveLength(2);
  });

  it('reads the optional 0.2 fields, and reads a version-1 log without them', () => {
    const rich = {
      ...stepRec(0, 2),
      weightNorm: 5,
      updateNorm: 0.01,
      updateRatio: 0.002,
      histogramEdges: [0.01, 0.1, 1],
      histogram: [1, 2, 0, 1],
      layers: [{ layer: 'rnn', size: 4, norm: 2, maxAbs: 2, nonFinite: 0, zeros: 0, weightNorm: 5, updateRatio: 0.002, histogram: [1, 2, 0, 1] }],
      recurrent: [{ layer: 'rnn', className: 'SimpleRNN', gate: 'all', spectralRadius: 1.5, maxSingularValue: 'Infinity', timeSteps: 50 }],
    };
    const log = parseRunLog([header, rich].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const s = log.steps[0]!;
    expect(s.recurrent![0]).toMatchObject({ spectralRadius: 1.5, maxSingularValue: Number.POSITIVE_INFINITY, timeSteps: 50 });
    expect(s.layers[0]!.histogram).toEqual([1, 2, 0, 1]);
    expect(s.updateRatio).toBe(0.002);
    const plain = parseRunLog([header, stepRec(0, 2)].map(encodeRunLogRecord).join('\n') + '\n');
    expect(plain.steps[0]!.weightNorm).toBeUndefined();
    expect(() => parseRunLog([header, { ...rich, histogram: [1.5] }].map((r) => JSON.stringify(r)).join('\n'))).toThrow(/at histogram\.0/);
  });

  it('parses the example in docs/run-log.md, the format\'s documentation', () => {
    const doc = readFileSync(new URL('../../docs/run-log.md', import.meta.url), 'utf8');
    const example = /```jsonl\n([\s\S]*?)```/.exec(doc)![1]!;
    const log = parseRunLog(example);
    expect(log.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(log.steps[1]!.loss).toBeNaN();
    expect(log.steps[0]!.recurrent![0]!.spectralRadius).toBe(1.5);
    expect(log.diagnoses[0]!.detector).toBe('detectRecurrentInstability');
    expect(log.end!.status).toBe('failed');
  });

  it('rejects garbage with the line number and what is wrong', () => {
    expect(() => parseRunLog('')).toThrow('the run log is empty');
    expect(() => parseRunLog('hello\n')).toThrow(/line 1: not JSON/);
    const badField = encodeRunLogRecord(header) + '\n' + JSON.stringify({ ...stepRec(0, 1), skipped: 'no' }) + '\n';
    expect(() => parseRunLog(badField)).toThrow(/line 2: invalid run-log record at skipped/);
    expect(() => parseRunLog(encodeRunLogRecord(stepRec(0, 1)) + '\n')).toThrow(/first record must be the header/);
    const future = encodeRunLogRecord({ ...header, version: RUN_LOG_VERSION + 1 } as RunLogRecord);
    expect(() => parseRunLog(future + '\n')).toThrow(/upgrade @gradguard\/core/);
  });
});
