import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectVanishingGradient } from './detect-vanishing-gradient';

describe('detectVanishingGradient', () => {
  it('reports the input-most layer below the floor for `patience` steps, with since and streak', () => {
    const d = detectVanishingGradient();
    const layers = [{ layer: 'in', norm: 1e-9 }, { layer: 'mid', norm: 5e-8 }, { layer: 'out', norm: 0.3 }];
    for (let i = 0; i < 9; i++) expect(d.observe(makeStep(i, layers, { loss: 0.5 }))).toEqual([]);
    const [f] = d.observe(makeStep(9, layers, { loss: 0.5 }));
    expect(f).toMatchObject({ problem: 'vanishing-gradient', severity: 'warning', layer: 'in' });
    expect(f!.evidence).toMatchObject({ layerNorm: 1e-9, streak: 10, since: 0, layersStarved: 2 });
  });

  it('a step above the floor restarts the streak; a converged model (all tiny, loss ~0) is not starved', () => {
    const d = detectVanishingGradient({ patience: 2 });
    d.observe(makeStep(0, [{ layer: 'a', norm: 1e-9 }, { layer: 'b', norm: 1 }]));
    d.observe(makeStep(1, [{ layer: 'a', norm: 1e-3 }, { layer: 'b', norm: 1 }]));
    expect(d.observe(makeStep(2, [{ layer: 'a', norm: 1e-9 }, { layer: 'b', norm: 1 }]))).toEqual([]);
    const c = detectVanishingGradient({ patience: 2 });
    const tiny = [{ layer: 'a', norm: 1e-9 }, { layer: 'b', norm: 1e-9 }];
    for (let i = 0; i < 5; i++) expect(c.observe(makeStep(i, tiny, { loss: 1e-8 }))).toEqual([]);
    expect(c.observe(makeStep(5, tiny, { loss: 0.4 }))).toEqual([]);
    expect(c.observe(makeStep(6, tiny, { loss: 0.4 }))).toHaveLength(1);
  });
});
