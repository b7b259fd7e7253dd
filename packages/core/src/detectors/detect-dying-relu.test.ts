import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectDyingRelu } from './detect-dying-relu';

describe('detectDyingRelu (AUTOTRAINER)', () => {
  it('fires once a layer has had >= 70 % exact zeros for `patience` steps', () => {
    const d = detectDyingRelu({ patience: 3 });
    const layers = [{ layer: 'dense', norm: 0.1, zeros: 70 }, { layer: 'out', norm: 0.2, zeros: 69 }];
    expect(d.observe(makeStep(0, layers))).toEqual([]);
    expect(d.observe(makeStep(1, layers))).toEqual([]);
    const [f] = d.observe(makeStep(2, layers));
    expect(f).toMatchObject({ problem: 'dying-relu', layer: 'dense', evidence: { zeroFraction: 0.7, streak: 3, since: 0, layersAffected: 1 } });
  });

  it('ignores tiny layers and restarts on a healthy step', () => {
    const d = detectDyingRelu({ patience: 2 });
    expect(d.observe(makeStep(0, [{ layer: 'bias', norm: 0, size: 8, zeros: 8 }]))).toEqual([]);
    expect(d.observe(makeStep(1, [{ layer: 'bias', norm: 0, size: 8, zeros: 8 }]))).toEqual([]);
    d.observe(makeStep(2, [{ layer: 'a', norm: 0, zeros: 90 }]));
    d.observe(makeStep(3, [{ layer: 'a', norm: 0, zeros: 10 }]));
    expect(d.observe(makeStep(4, [{ layer: 'a', norm: 0, zeros: 90 }]))).toEqual([]);
    expect(() => detectDyingRelu({ zeroFraction: 1.5 })).toThrow('zeroFraction must be a number > 0 <= 1, got 1.5');
  });
});
