import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectNormAboveBound } from './detect-norm-above-bound';

// The measured 3-blob MLP on raw inputs: global norm ~24 from step 0 while the loss falls; the same norms on a flat loss.
const at = (i: number, loss: number | undefined) =>
  makeStep(i, [{ layer: 'hidden', norm: 5 }, { layer: 'out', norm: 23.42 }], loss === undefined ? {} : { loss });

describe('detectNormAboveBound: a large steady norm warns only when the loss stalls', () => {
  it('norm 23.95 for 10 steps: info while the loss falls 1.2 → 0.75, a warning on a flat loss or with no loss', () => {
    const learning = detectNormAboveBound();
    const seen = [];
    for (let i = 0; i < 10; i++) seen.push(...learning.observe(at(i, 1.2 - 0.05 * i)));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ severity: 'info', evidence: { streak: 10, lossImproving: true } });
    expect(seen[0]!.evidence.globalNorm).toBeCloseTo(Math.sqrt(25 + 23.42 ** 2), 10);
    const flat = detectNormAboveBound();
    for (let i = 0; i < 9; i++) flat.observe(at(i, 1.2));
    expect(flat.observe(at(9, 1.2))[0]).toMatchObject({ severity: 'warning', evidence: { lossImproving: false } });
    const unknown = detectNormAboveBound();
    for (let i = 0; i < 9; i++) unknown.observe(at(i, undefined));
    expect(unknown.observe(at(9, undefined))[0]).toMatchObject({ severity: 'warning', evidence: { lossImproving: false } });
  });
});
