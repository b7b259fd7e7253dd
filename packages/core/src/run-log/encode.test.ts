import { describe, expect, it } from 'vitest';
import { encodeRunLogRecord } from './encode';
import { parseRunLogRecord } from './codec';
import type { RunLogRecord } from './schema';

/** The definition the fast path must match: every non-finite number as its string, through a replacer. */
const reference = (r: unknown): string =>
  JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

function step(i: number, layers: number, poison?: { layer: number; field: 'norm' | 'maxAbs' | 'weightNorm'; value: number }): RunLogRecord {
  return {
    type: 'step', step: i, time: 12.5 * i, loss: 1 / (i + 1), globalNorm: 3.25, preClipNorm: 3.25, postClipNorm: 1, scale: 1 / 3.25,
    skipped: false, learningRate: 0.001, maxAbs: 0.5, nonFinite: 0,
    layers: Array.from({ length: layers }, (_, l) => ({
      layer: `dense_${l}`, size: 4160, norm: 0.1 * (l + 1), maxAbs: 0.01 * l, nonFinite: 0, zeros: l,
      ...(poison?.layer === l ? { [poison.field]: poison.value } : {}),
    })),
  } as RunLogRecord;
}

describe('encodeRunLogRecord', () => {
  it('writes a finite record exactly as JSON.stringify does', () => {
    const r = step(7, 21);
    expect(encodeRunLogRecord(r)).toBe(JSON.stringify(r));
  });

  it('writes NaN and ±Infinity as strings wherever they are, and they read back as numbers', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const field of ['norm', 'maxAbs', 'weightNorm'] as const) {
        const r = step(3, 21, { layer: 20, field, value });
        const line = encodeRunLogRecord(r);
        expect(line).toBe(reference(r));
        expect(line).toContain(`"${field}":"${String(value)}"`);
        const back = parseRunLogRecord(JSON.parse(line)) as Extract<RunLogRecord, { type: 'step' }>;
        expect(back.layers[20]![field]).toBe(value);
      }
    }
  });

  it('keeps the replay verdict of a non-finite step, and the reader refuses an unknown verdict', () => {
    const r = { ...step(2, 1), replay: { verdict: 'backend', backend: 'webgl', replayedOn: 'cpu' } } as RunLogRecord;
    expect(parseRunLogRecord(JSON.parse(encodeRunLogRecord(r)))).toMatchObject({ replay: { verdict: 'backend', backend: 'webgl', replayedOn: 'cpu' } });
    const bad = { ...step(2, 1), replay: { verdict: 'gpu', backend: 'webgl', replayedOn: 'cpu' } };
    expect(() => parseRunLogRecord(JSON.parse(JSON.stringify(bad)))).toThrow(/replay\.verdict/);
  });

  it('matches the replacer encoding on diagnoses with non-finite evidence and on 500 random records', () => {
    const d: RunLogRecord = {
      type: 'diagnosis', problem: 'non-finite', severity: 'critical', phase: 'onset', step: 2, detector: 'detectNonFinite',
      message: 'NaN', evidence: { globalNorm: Number.NaN, peak: Number.POSITIVE_INFINITY, layer: 'x', ok: false, none: null }, advice: [],
    };
    expect(encodeRunLogRecord(d)).toBe(reference(d));
    expect(encodeRunLogRecord(d)).toContain('"globalNorm":"NaN","peak":"Infinity"');
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-320, 3.4e38];
    for (let i = 0; i < 500; i++) {
      const poison = random() < 0.5 ? { layer: Math.floor(random() * 5), field: 'norm' as const, value: specials[Math.floor(random() * specials.length)]! } : undefined;
      const r = step(i, 5, poison);
      expect(encodeRunLogRecord(r)).toBe(reference(r));
    }
  });
});
