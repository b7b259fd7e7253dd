import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectGradientSpike } from './detect-gradient-spike';

const at = (i: number, norm: number) => makeStep(i, [{ layer: 'only', norm }]);
// These check the z, norm and loss tests alone: isolatedWarningZ 10 lets a lone spike that passes them warn.
const lone = { isolatedWarningZ: 10 };

describe('detectGradientSpike', () => {
  it('computes z against the EMA with the std floor, clips the spike into the average as ZClip does', () => {
    const d = detectGradientSpike(lone);
    for (let i = 0; i < 30; i++) expect(d.observe(at(i, 1))).toEqual([]);
    // Constant 1: μ = 1, σ = 0, floored to 0.05·μ. 1.2 → z = 0.2 / 0.05 = 4: a spike, info.
    const [a] = d.observe(at(30, 1.2));
    expect(a).toMatchObject({ problem: 'gradient-spike', severity: 'info', layer: 'only' });
    expect(a!.evidence.z).toBeCloseTo(4, 9);
    // The spike entered as μ + 2.5σ = 1.125: μ = 1 + 0.03·0.125 = 1.00375; σ² = 0.97·0.03·0.125² → σ = 0.0213,
    // floored to 0.05·1.00375. Norm 2 → z = (2 − 1.00375) / 0.0501875 = 19.85: a warning.
    const [b] = d.observe(at(31, 2));
    expect(b!.evidence.mean).toBeCloseTo(1.00375, 9);
    expect(b!.evidence.z).toBeCloseTo((2 - 1.00375) / 0.0501875, 6);
    expect(b!.severity).toBe('warning');
    expect(b!.evidence.spikesInWindow).toBe(2);
  });

  it('keeps a spike that stays under minWarningNorm at info however large its z (a model starting to learn)', () => {
    const d = detectGradientSpike();
    for (let i = 0; i < 30; i++) d.observe(at(i, 0.1));
    // μ = 0.1, σ floored to 0.005: 0.8 is z = 140, but a step of norm 0.8 is no destabilizing outlier.
    const [a] = d.observe(at(30, 0.8));
    expect(a!.evidence.z).toBeCloseTo(140, 6);
    expect(a!.severity).toBe('info');
    // The same jump, scaled ×10 across the bound of 1, is a warning; minWarningNorm 0 restores the relative rule.
    const e = detectGradientSpike(lone);
    for (let i = 0; i < 30; i++) e.observe(at(i, 1));
    expect(e.observe(at(30, 8))[0]!.severity).toBe('warning');
    const f = detectGradientSpike({ ...lone, minWarningNorm: 0 });
    for (let i = 0; i < 30; i++) f.observe(at(i, 0.1));
    expect(f.observe(at(30, 0.8))[0]!.severity).toBe('warning');
  });

  it('keeps a spike at info while the loss falls below its recent average, warns when the loss jumps with it', () => {
    const withLoss = (i: number, norm: number, loss: number) => makeStep(i, [{ layer: 'only', norm }], { loss });
    const d = detectGradientSpike();
    for (let i = 0; i < 30; i++) d.observe(withLoss(i, 1, 1));
    // Loss average 1; this step's loss 0.8 is below it: the model is learning through a steep stretch.
    const [a] = d.observe(withLoss(30, 8, 0.8));
    expect(a!.evidence.z).toBeGreaterThan(10);
    expect(a!.severity).toBe('info');
    expect(a!.evidence.lossFalling).toBe(true);
    expect(a!.message).toContain('The loss 0.8 is below its recent average 1: the model is learning through it.');
    // Same statistics, but the loss jumps with the gradient (a bad batch): a warning.
    const e = detectGradientSpike(lone);
    for (let i = 0; i < 30; i++) e.observe(withLoss(i, 1, 1));
    const [b] = e.observe(withLoss(30, 8, 5));
    expect(b!.severity).toBe('warning');
    expect(b!.evidence.lossFalling).toBe(false);
    // The loss average is an EMA(0.9) over finite losses only: after 1, 1, 3 it is 0.9·1 + 0.1·3 = 1.2, so with a
    // NaN loss in between, a spike at loss 1.1 is still falling (< 1.2) and at 1.3 is not.
    const f = detectGradientSpike({ warmup: 3 });
    [1, 1, 3].forEach((l, i) => f.observe(withLoss(i, 1, l)));
    f.observe(withLoss(3, Number.NaN, Number.NaN));
    expect(f.observe(withLoss(4, 50, 1.1))[0]).toMatchObject({ severity: 'info', evidence: { lossFalling: true } });
    const g = detectGradientSpike({ ...lone, warmup: 3 });
    [1, 1, 3].forEach((l, i) => g.observe(withLoss(i, 1, l)));
    expect(g.observe(withLoss(3, 50, 1.3))[0]).toMatchObject({ severity: 'warning', evidence: { lossFalling: false } });
  });

  it('judges nothing during the warm-up and ignores non-finite norms', () => {
    const d = detectGradientSpike({ warmup: 5 });
    for (let i = 0; i < 4; i++) expect(d.observe(at(i, i === 3 ? 1000 : 1))).toEqual([]);
    expect(d.observe(at(4, Number.NaN))).toEqual([]);
    expect(d.observe(at(5, Number.POSITIVE_INFINITY))).toEqual([]);
  });

  it('rejects bad options with the value', () => {
    expect(() => detectGradientSpike({ zThreshold: -1 })).toThrow('zThreshold must be a number > 0, got -1');
    expect(() => detectGradientSpike({ alpha: 1 })).toThrow('alpha must be a number > 0 <= 0.9999, got 1');
    expect(() => detectGradientSpike({ minWarningNorm: -1 })).toThrow('minWarningNorm must be a number >= 0, got -1');
  });
});

describe('detectGradientSpike: a lone spike is info, a repeated one a warning (defaults)', () => {
  const withLoss = (i: number, norm: number, loss: number) => makeStep(i, [{ layer: 'only', norm }], { loss });
  it('the measured healthy RMSProp 0.01 encoder–decoder: norm 0.244 → 1.616 with the loss 1.91 → 2.47 is info', () => {
    const d = detectGradientSpike();
    for (let i = 0; i < 45; i++) d.observe(withLoss(i, 0.244, 1.91));
    // σ floored to 0.05·0.244 = 0.0122: z = (1.616 − 0.244) / 0.0122 = 112 ≥ 100 would be a warning, so the stream
    // carries the run's own spread: alternate 0.2 / 0.288 (σ ≈ 0.044 → z ≈ 31).
    const e = detectGradientSpike();
    for (let i = 0; i < 45; i++) e.observe(withLoss(i, i % 2 === 0 ? 0.2 : 0.288, 1.91));
    const [lone1] = e.observe(withLoss(45, 1.616, 2.47));
    expect(lone1!.evidence.z).toBeGreaterThan(10);
    expect(lone1!.evidence.z).toBeLessThan(100);
    expect(lone1).toMatchObject({ severity: 'info', evidence: { strongSpikesInWindow: 1, lossFalling: false } });
    // A second such spike within 50 steps is an instability: a warning.
    for (let i = 46; i < 60; i++) e.observe(withLoss(i, i % 2 === 0 ? 0.2 : 0.288, 1.91));
    const [again] = e.observe(withLoss(60, 1.616, 2.47));
    expect(again).toMatchObject({ severity: 'warning', evidence: { strongSpikesInWindow: 2 } });
    // The first stream, spread-free, puts the same spike at z ≥ 100: a warning alone.
    const [big] = d.observe(withLoss(45, 1.616, 2.47));
    expect(big!.evidence.z).toBeCloseTo((1.616 - 0.244) / (0.05 * 0.244), 6);
    expect(big!.severity).toBe('warning');
  });

  it('a repeat more than 50 steps later is lone again', () => {
    const e = detectGradientSpike();
    const quiet = (i: number) => withLoss(i, i % 2 === 0 ? 0.2 : 0.288, 1.91);
    for (let i = 0; i < 45; i++) e.observe(quiet(i));
    expect(e.observe(withLoss(45, 1.616, 2.47))[0]!.severity).toBe('info');
    for (let i = 46; i < 96; i++) e.observe(quiet(i));
    const [later] = e.observe(withLoss(96, 1.616, 2.47));
    expect(later).toMatchObject({ severity: 'info', evidence: { strongSpikesInWindow: 1 } });
  });
});
