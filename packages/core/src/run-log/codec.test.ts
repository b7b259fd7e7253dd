import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_SKIPPED_LINES, encodeRunLogRecord, parseRunLog, parseRunLogRecord } from './codec';
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

  it('is at version 2 (new problem names a version-1 reader would reject) and still reads version-1 logs', () => {
    expect(RUN_LOG_VERSION).toBe(2);
    const v1 = [{ ...header, version: 1 }, stepRec(0, 1)].map((r) => encodeRunLogRecord(r as RunLogRecord)).join('\n') + '\n';
    expect(parseRunLog(v1).header.version).toBe(1);
    const saturation = { type: 'diagnosis', problem: 'saturation', severity: 'warning', phase: 'onset', step: 0, detector: 'detectSaturation', message: 'm', evidence: {}, advice: [] };
    const v2 = [{ ...header, version: 2 }, stepRec(0, 1), saturation].map((r) => encodeRunLogRecord(r as RunLogRecord)).join('\n') + '\n';
    expect(parseRunLog(v2).diagnoses.map((d) => d.problem)).toEqual(['saturation']);
  });

  it('rejects a step out of order or repeated with its line number, and a bad line in the middle', () => {
    const lines = (...rs: (RunLogRecord | string)[]) => rs.map((r) => (typeof r === 'string' ? r : encodeRunLogRecord(r))).join('\n') + '\n';
    expect(() => parseRunLog(lines(header, stepRec(0, 1), stepRec(1, 1), stepRec(1, 1)))).toThrow(/line 4: step 1 appears twice \(a duplicate step\)/);
    expect(() => parseRunLog(lines(header, stepRec(0, 1), stepRec(2, 1), stepRec(1, 1)))).toThrow(/line 4: step 1 comes after step 2 \(steps out of order\)/);
    expect(() => parseRunLog(lines(header, stepRec(0, 1), '{"type":"st', stepRec(1, 1)))).toThrow(/line 3: not JSON: .*use the salvage option/);
    expect(() => parseRunLog(lines(header, stepRec(0, 1), header))).toThrow(/line 3: a second header record/);
    // Steps that skip numbers (statsEvery) are in order.
    expect(parseRunLog(lines(header, stepRec(0, 1), stepRec(10, 1), stepRec(20, 1))).steps.map((s) => s.step)).toEqual([0, 10, 20]);
  });

  it('salvage: keeps the valid lines around bad ones and says which it skipped and why', () => {
    const text =
      [
        encodeRunLogRecord(header),
        encodeRunLogRecord(stepRec(0, 1)),
        'garbage \u001b[2J',
        JSON.stringify({ ...stepRec(1, 1), skipped: 'no' }),
        encodeRunLogRecord(stepRec(1, 2)),
        encodeRunLogRecord(stepRec(1, 3)),
        encodeRunLogRecord(stepRec(0, 4)),
        encodeRunLogRecord(header),
        encodeRunLogRecord(stepRec(2, 5)),
      ].join('\n') + '\n' + encodeRunLogRecord(stepRec(3, 6)).slice(0, 20);
    const log = parseRunLog(text, { salvage: true });
    expect(log.steps.map((s) => [s.step, s.loss])).toEqual([[0, 1], [1, 2], [2, 5]]);
    expect(log.truncated).toBe(true); // a cut-off last line is still the killed-run case, not a skipped line
    expect(log.skipped!.count).toBe(5);
    expect(log.skipped!.lines.map((l) => l.line)).toEqual([3, 4, 6, 7, 8]);
    expect(log.skipped!.lines.map((l) => l.reason)).toEqual([
      'not JSON: "garbage \\u001b[2J".',
      expect.stringMatching(/^invalid run-log record at skipped: /),
      'step 1 appears twice (a duplicate step).',
      'step 0 comes after step 1 (steps out of order).',
      'a second header record: one run log holds one run.',
    ]);
    // Without salvage the same text is rejected at the first bad line.
    expect(() => parseRunLog(text)).toThrow(/^line 3: not JSON/);
    // Salvage reads around bad records, not around a file that is no run log, and keeps the count past the detail.
    expect(() => parseRunLog('junk\nmore junk\n', { salvage: true })).toThrow(/no valid header record/);
    const many = parseRunLog(encodeRunLogRecord(header) + '\n' + 'x\n'.repeat(MAX_SKIPPED_LINES + 50), { salvage: true });
    expect(many.skipped).toMatchObject({ count: MAX_SKIPPED_LINES + 50 });
    expect(many.skipped!.lines).toHaveLength(MAX_SKIPPED_LINES);
  });
});
