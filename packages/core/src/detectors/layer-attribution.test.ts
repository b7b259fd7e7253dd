import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { createLayerTracker, describeAttribution } from './layer-attribution';

describe('createLayerTracker', () => {
  it('names the layer that crossed the bound first and the one that grew fastest, with the numbers', () => {
    const t = createLayerTracker(20);
    // in: 0.1 → 0.1·3^i (fastest), crosses 1 at step 3 (2.7); mid: 0.5 → crosses at step 1 (1.2) and stays;
    // out: flat 0.3.
    const mid = [0.5, 1.2, 1.5, 2, 2.5, 3];
    for (let i = 0; i < 6; i++) {
      t.observe(makeStep(i, [{ layer: 'in', norm: 0.1 * 3 ** i }, { layer: 'mid', norm: mid[i]! }, { layer: 'out', norm: 0.3 }]));
    }
    const a = t.attribute(1);
    expect(a).toMatchObject({ firstLayer: 'mid', firstLayerStep: 1, firstLayerNorm: 1.2, fastestLayer: 'in', fastestGrowthSteps: 5 });
    expect(a.fastestGrowth).toBeCloseTo(243, 9);
    const d = describeAttribution(a);
    expect(d.text).toBe(' Where it starts: layer "mid" crossed the bound first (step 1); "in" grew fastest (×243 in 5 steps).');
    expect(d.evidence).toMatchObject({ firstLayer: 'mid', fastestLayer: 'in' });
  });

  it('restarts a layer\'s crossing when it dips below the bound, skips NaN, and forgets old steps', () => {
    const t = createLayerTracker(3);
    t.observe(makeStep(0, [{ layer: 'a', norm: 5 }]));
    t.observe(makeStep(1, [{ layer: 'a', norm: 0.5 }]));
    t.observe(makeStep(2, [{ layer: 'a', norm: Number.NaN }]));
    t.observe(makeStep(3, [{ layer: 'a', norm: 4 }]));
    expect(t.attribute(1)).toMatchObject({ firstLayer: 'a', firstLayerStep: 3, fastestGrowth: 8, fastestGrowthSteps: 2 });
    t.reset();
    expect(t.attribute(1)).toEqual({});
    expect(describeAttribution({}).text).toBe('');
  });

  it('keeps numbers, not the steps: a window that wraps many times, layers that change, and a snapshot later steps cannot touch', () => {
    const t = createLayerTracker(4);
    // 'a' doubles every step from 1 at step 0; 'b' joins at step 6. After step 9 the window is steps 6..9.
    for (let i = 0; i < 10; i++) {
      const layers = [{ layer: 'a', norm: 2 ** i }, ...(i >= 6 ? [{ layer: 'b', norm: 0.5 }] : [])];
      t.observe(makeStep(i, layers));
    }
    const later = t.attributeLater(100);
    // a: 64, 128, 256, 512 — crosses 100 at step 7 and stays; grows ×8 over 3 steps; b flat at 0.5.
    const expected = { firstLayer: 'a', firstLayerStep: 7, firstLayerNorm: 128, fastestLayer: 'a', fastestGrowth: 8, fastestGrowthSteps: 3 };
    expect(t.attribute(100)).toEqual(expected);
    // The stats objects the tracker saw can change or go away: it kept copies of the numbers.
    for (let i = 10; i < 20; i++) t.observe(makeStep(i, [{ layer: 'b', norm: 1000 }]));
    expect(later()).toEqual(expected);
    expect(t.attribute(100)).toEqual({ firstLayer: 'b', firstLayerStep: 16, firstLayerNorm: 1000, fastestLayer: 'b', fastestGrowth: 1, fastestGrowthSteps: 3 });
  });
});
