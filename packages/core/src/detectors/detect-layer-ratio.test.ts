import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectLayerRatio } from './detect-layer-ratio';

const two = (i: number, first: number, last: number) =>
  makeStep(i, [{ layer: 'first', norm: first }, { layer: 'mid', norm: 1 }, { layer: 'last', norm: last }]);

describe('detectLayerRatio (AUTOTRAINER)', () => {
  it('exploding: first/last > 70 for `patience` steps; critical at criticalRatio', () => {
    const d = detectLayerRatio();
    expect(d.observe(two(0, 100, 1))).toEqual([]);
    expect(d.observe(two(1, 100, 1))).toEqual([]);
    const [f] = d.observe(two(2, 71, 1));
    expect(f).toMatchObject({ problem: 'exploding-gradient', severity: 'warning', layer: 'first' });
    expect(f!.evidence).toMatchObject({ ratio: 71, firstLayerNorm: 71, lastLayer: 'last', lastLayerNorm: 1, streak: 3 });
    expect(d.observe(two(3, 2e4, 1))[0]!.severity).toBe('critical');
    expect(d.observe(two(4, 70, 1))).toEqual([]); // 70 is not above 70, and the streak restarts
  });

  it('vanishing: ratio < 1e-3 AND first-layer norm < 1e-4, both needed', () => {
    const d = detectLayerRatio({ patience: 1 });
    const [f] = d.observe(two(0, 5e-5, 0.1));
    expect(f).toMatchObject({ problem: 'vanishing-gradient', layer: 'first' });
    expect(f!.evidence.ratio).toBeCloseTo(5e-4, 12);
    expect(d.observe(two(1, 5e-5, 1e-2))).toEqual([]); // ratio 5e-3: not below 1e-3
    expect(d.observe(two(2, 2e-4, 1))).toEqual([]); // ratio 2e-4 but the first layer is not below 1e-4
  });

  it('needs two layers, finite norms and a non-zero last layer', () => {
    const d = detectLayerRatio({ patience: 1 });
    expect(d.observe(makeStep(0, [{ layer: 'only', norm: 1e6 }]))).toEqual([]);
    expect(d.observe(two(1, 1e6, 0))).toEqual([]);
    expect(d.observe(two(2, Number.NaN, 1))).toEqual([]);
  });
});

describe('detectLayerRatio: the exploding ratio needs a loss that does not improve', () => {
  const withLoss = (i: number, first: number, loss: number) =>
    makeStep(i, [{ layer: 'first', norm: first }, { layer: 'last', norm: 1 }], { loss });
  it('ratio 200 while the loss falls 1 → 0.5 stays info from step 2; on a flat loss it is a warning', () => {
    const d = detectLayerRatio();
    const out = [];
    // Losses 1, 0.9, 0.8: EMA(0.9) 1 → 0.99 → 0.971, down 2.9 % by step 2 (≥ 1 %): improving from the first verdict.
    for (let i = 0; i < 30; i++) out.push(...d.observe(withLoss(i, 200, Math.max(0.5, 1 - i / 10))));
    expect(out).toHaveLength(28); // from step 2 (patience 3)
    expect(out.every((f) => f.severity === 'info' && f.evidence.lossImproving === true)).toBe(true);
    expect(out[0]!.message).toMatch(/, though the loss keeps improving \(smoothed 1 → 0\.971\)\.$/);
    const flat = detectLayerRatio();
    const severities = [];
    for (let i = 0; i < 25; i++) severities.push(flat.observe(withLoss(i, 200, 1 + 0.001 * Math.sin(i)))[0]?.severity);
    expect(severities.slice(2)).toEqual(Array(23).fill('warning')); // within 0.1 %: not improving
    // Without losses the rule is AUTOTRAINER's as published: a warning from step 2; ≥ 1e4 is critical with any loss.
    expect(detectLayerRatio({ patience: 1 }).observe(two(0, 200, 1))[0]!.severity).toBe('warning');
    expect(detectLayerRatio({ patience: 1 }).observe(withLoss(0, 2e4, 1))[0]!.severity).toBe('critical');
  });
});
