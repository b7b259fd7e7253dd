import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectWeightGrowth } from './detect-weight-growth';

const w = (i: number, a: number, b = 3) => makeStep(i, [{ layer: 'a', norm: 0.1, weightNorm: a }, { layer: 'b', norm: 0.1, weightNorm: b }]);

describe('detectWeightGrowth', () => {
  it('warns at 10× the first measured norm and is critical at 1000×', () => {
    const d = detectWeightGrowth();
    expect(d.observe(w(0, 2))).toEqual([]);
    expect(d.observe(w(1, 19.9))).toEqual([]);
    const [f] = d.observe(w(2, 20));
    expect(f).toMatchObject({ problem: 'weight-growth', severity: 'warning', layer: 'a', evidence: { growth: 10, initialNorm: 2, initialStep: 0 } });
    expect(d.observe(w(3, 2000))[0]!.severity).toBe('critical');
  });

  it('flags a steady rise: up on every one of `window` measurements and ×steadyFactor overall', () => {
    const d = detectWeightGrowth({ window: 10 });
    for (let i = 0; i < 10; i++) expect(d.observe(w(i, 1.1 ** i))).toEqual([]);
    const [f] = d.observe(w(10, 1.1 ** 10)); // ×2.59 in 10 rises, still under 10×
    expect(f).toMatchObject({ layer: 'a', severity: 'warning', evidence: { steady: true } });
    expect(f!.message).toContain('rising on each of the last 10 measurements (×2.594)');
    const flat = detectWeightGrowth({ window: 10 });
    for (let i = 0; i <= 10; i++) expect(flat.observe(w(i, 1 + 0.01 * i))).toEqual([]); // rising, but only ×1.1
  });

  it('a steady rise while the loss falls is learning (silent); the same rise with a flat or rising loss is flagged', () => {
    // A classifier's head sharpening its logits: ×2.6 over 10 measurements while the loss halves.
    const learning = detectWeightGrowth({ window: 10 });
    for (let i = 0; i <= 10; i++) {
      expect(learning.observe(makeStep(i, [{ layer: 'head', norm: 0.1, weightNorm: 1.1 ** i }], { loss: 0.7 * 0.93 ** i }))).toEqual([]);
    }
    const idle = detectWeightGrowth({ window: 10 });
    let last: readonly unknown[] = [];
    for (let i = 0; i <= 10; i++) last = idle.observe(makeStep(i, [{ layer: 'head', norm: 0.1, weightNorm: 1.1 ** i }], { loss: 0.7 + 0.01 * (i % 2) }));
    expect(last).toMatchObject([{ layer: 'head', severity: 'warning', evidence: { steady: true } }]);
    // 10× the first value is flagged whatever the loss does.
    const big = detectWeightGrowth({ window: 10 });
    big.observe(makeStep(0, [{ layer: 'head', norm: 0.1, weightNorm: 1 }], { loss: 1 }));
    expect(big.observe(makeStep(1, [{ layer: 'head', norm: 0.1, weightNorm: 10 }], { loss: 0.5 }))).toMatchObject([{ evidence: { growth: 10 } }]);
  });

  it('skips steps without weight norms and non-finite ones', () => {
    const d = detectWeightGrowth();
    expect(d.observe(makeStep(0, [{ layer: 'a', norm: 1 }]))).toEqual([]);
    d.observe(w(1, 1));
    expect(d.observe(w(2, Number.NaN))).toEqual([]);
    expect(() => detectWeightGrowth({ factor: 1 })).toThrow('factor must be a number > 1, got 1');
  });
});
