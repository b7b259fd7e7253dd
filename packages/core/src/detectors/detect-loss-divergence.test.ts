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

  it('tracks the best from the first step: a loss thrown from 0.7 to 8 inside the warm-up is caught once judged', () => {
    const d = detectLossDivergence(); // warm-up 20
    const found = [];
    for (let i = 0; i < 40; i++) {
      const f = d.observe(at(i, i < 3 ? 0.7 : 8));
      if (i < 19) expect(f).toEqual([]);
      found.push(...f);
    }
    expect(found[0]).toMatchObject({ problem: 'loss-divergence', severity: 'critical', evidence: { best: 0.7, bestStep: 0, start: 0.7 } });
  });

  it('a bounce of a converged loss is not a trend; giving back a real share of the gain is', () => {
    // Learned from 0.7 to 0.05 over 100 steps, then mini-batch noise lifts the window's second half by +50 %.
    const loss = (i: number) => (i < 100 ? 0.05 + 0.65 * 0.95 ** i : 0.05);
    const quiet = detectLossDivergence();
    for (let i = 0; i < 150; i++) expect(quiet.observe(at(i, loss(i)))).toEqual([]);
    for (let i = 150; i < 200; i++) expect(quiet.observe(at(i, i < 175 ? 0.05 : 0.078))).toEqual([]);
    // A run that had only got from 0.7 to 0.4 and climbs back to 0.62 (73 % of its gain, under 3× its best): trending up.
    const partial = (i: number) => (i < 100 ? 0.4 + 0.3 * 0.95 ** i : 0.4);
    const back = detectLossDivergence();
    for (let i = 0; i < 150; i++) expect(back.observe(at(i, partial(i)))).toEqual([]);
    const found = [];
    for (let i = 150; i < 200; i++) found.push(...back.observe(at(i, i < 175 ? 0.4 : 0.62)));
    expect(found[0]!.message).toMatch(/^The loss is trending up/);
    expect((found[0]!.evidence as { givenBack: number }).givenBack).toBeGreaterThan(0.25);
  });

  it('handles negative losses (log-likelihoods) by distance from the best', () => {
    const d = detectLossDivergence({ alpha: 0, warmup: 1 });
    d.observe(at(0, -2));
    d.observe(at(1, -5)); // best -5: "3×" is -5 + 2·5 = 5
    expect(d.observe(at(2, 4.9))).toEqual([]);
    expect(d.observe(at(3, 5.1))).toHaveLength(1);
  });
});
