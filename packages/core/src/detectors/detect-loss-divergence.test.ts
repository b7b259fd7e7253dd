import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectLossDivergence } from './detect-loss-divergence';

const at = (i: number, loss: number | undefined) => makeStep(i, [{ layer: 'a', norm: 0.1 }], loss === undefined ? {} : { loss });

describe('detectLossDivergence', () => {
  it('warns when the smoothed loss is 3× its best, critical once it is 3× where it started', () => {
    const d = detectLossDivergence({ alpha: 0, warmup: 1 }); // alpha 0: the EMA is the raw loss, for exact numbers
    expect(d.observe(at(0, 1))).toEqual([]); // start = 1
    expect(d.observe(at(1, 0.2))).toEqual([]); // best 0.2
    expect(d.observe(at(2, 0.59))).toEqual([]);
    const [f] = d.observe(at(3, 0.61));
    expect(f).toMatchObject({ problem: 'loss-divergence', severity: 'warning', evidence: { best: 0.2, bestStep: 1, start: 1 } });
    expect(d.observe(at(4, 3.5))[0]!.severity).toBe('critical');
  });

  it('a non-finite loss is critical at once; an unknown loss is skipped', () => {
    const d = detectLossDivergence();
    expect(d.observe(at(0, undefined))).toEqual([]);
    const [f] = d.observe(at(1, Number.NaN));
    expect(f).toMatchObject({ severity: 'critical', evidence: { smoothed: null } });
    expect(f!.message).toBe('The loss is NaN at step 1.');
  });

  it('flags a loss trending up: the window\'s second half 50 % above its first, below 3× the best', () => {
    const d = detectLossDivergence();
    for (let i = 0; i < 30; i++) expect(d.observe(at(i, 1))).toEqual([]);
    const found = [];
    for (let i = 30; i < 80; i++) found.push(...d.observe(at(i, 1 + (1.5 * (i - 30)) / 49)));
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.message).toMatch(/^The loss is trending up/);
    const e = found[0]!.evidence as { early: number; late: number };
    expect(e.late).toBeGreaterThan(1.5 * e.early);
  });

  it('handles negative losses (log-likelihoods) by distance from the best', () => {
    const d = detectLossDivergence({ alpha: 0, warmup: 1 });
    d.observe(at(0, -2));
    d.observe(at(1, -5)); // best -5: "3×" is -5 + 2·5 = 5
    expect(d.observe(at(2, 4.9))).toEqual([]);
    expect(d.observe(at(3, 5.1))).toHaveLength(1);
  });
});
