import { describe, expect, it } from 'vitest';
import { clipBoundOf } from './clip-bound';
import { guardedRun, headerOf, stepOf, unguardedRun } from './test-runs';

describe('clipBoundOf', () => {
  it('takes the bound from the config of a run that was clipped', () => {
    expect(clipBoundOf(guardedRun)).toBe(1);
    expect(clipBoundOf({ header: headerOf('cli', { clipGlobalNorm: 2.5 }), steps: [] })).toBe(2.5);
    expect(clipBoundOf({ header: headerOf('chain', { maxNorm: 2, transform: 'chain(skipNonFinite, clipByGlobalNorm(2))' }), steps: [] })).toBe(2);
  });

  it('ignores a maxNorm in the config of a run without a clipping transform', () => {
    // The demo pair records maxNorm 1 in both runs; the unguarded one (transform none) never clipped: no bound.
    expect(clipBoundOf(unguardedRun)).toBeUndefined();
    expect(clipBoundOf({ header: headerOf('skip', { maxNorm: 1, transform: 'skipNonFinite()' }), steps: [stepOf(0, 5)] })).toBeUndefined();
    // Clipped steps still tell the bound: 0.75 here, not the config's 5.
    const steps = [stepOf(0, 3, 0.75), stepOf(1, 0.5, 0.75)];
    expect(clipBoundOf({ header: headerOf('none', { clipGlobalNorm: 5, transform: 'none' }), steps })).toBe(0.75);
  });

  it('without a config entry, takes the median post-clip norm of the clipped steps', () => {
    // Clipped (scale < 1) post-clip norms 3, 1, 2 → median 2; the unclipped step 4 (scale 1) and the NaN step do not count.
    const steps = [stepOf(0, 6, 3), stepOf(1, 4, 1), stepOf(2, 4, 2), stepOf(3, 4, 5), stepOf(4, Number.NaN)];
    expect(clipBoundOf({ header: headerOf('x', {}), steps })).toBe(2);
    expect(clipBoundOf({ header: headerOf('x', {}), steps: steps.slice(3) })).toBeUndefined();
  });
});
