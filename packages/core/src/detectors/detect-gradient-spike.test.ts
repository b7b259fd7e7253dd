import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectGradientSpike } from './detect-gradient-spike';

const at = (i: number, norm: number) => makeStep(i, [{ layer: 'only', norm }]);

describe('detectGradientSpike', () => {
  it('computes z against the EMA with the std floor, clips the spike into the average as ZClip does', () => {
    const d = detectGradientSpike();
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

  it('judges nothing during the warm-up and ignores non-finite norms', () => {
    const d = detectGradientSpike({ warmup: 5 });
    for (let i = 0; i < 4; i++) expect(d.observe(at(i, i === 3 ? 1000 : 1))).toEqual([]);
    expect(d.observe(at(4, Number.NaN))).toEqual([]);
    expect(d.observe(at(5, Number.POSITIVE_INFINITY))).toEqual([]);
  });

  it('rejects bad options with the value', () => {
    expect(() => detectGradientSpike({ zThreshold: -1 })).toThrow('zThreshold must be a number > 0, got -1');
    expect(() => detectGradientSpike({ alpha: 1 })).toThrow('alpha must be a number > 0 <= 0.9999, got 1');
  });
});
