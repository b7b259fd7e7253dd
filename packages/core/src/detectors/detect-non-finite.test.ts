import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectNonFinite } from './detect-non-finite';

describe('detectNonFinite on weights', () => {
  it('fires critical when measured weights are no longer finite, naming the first bad layer', () => {
    const d = detectNonFinite();
    const ok = makeStep(0, [{ layer: 'a', norm: 0.1, weightNorm: 2 }, { layer: 'b', norm: 0.1, weightNorm: 3 }]);
    expect(d.observe(ok)).toEqual([]);
    const bad = makeStep(1, [{ layer: 'a', norm: 0.1, weightNorm: 2 }, { layer: 'b', norm: 0.1, weightNorm: Number.POSITIVE_INFINITY }]);
    const [f] = d.observe(bad);
    expect(f).toMatchObject({ problem: 'non-finite', severity: 'critical', layer: 'b', evidence: { where: 'weights', layersAffected: 1 } });
    expect(f!.message).toContain('restore a checkpoint');
  });
});
