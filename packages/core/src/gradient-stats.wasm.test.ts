import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientStats } from './gradient-stats';

// The fastest backend in Node here: its kernels differ (searchSorted's shape and NaN order), the numbers must not.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

describe('gradientStats on wasm', () => {
  it('gives the cpu numbers: norms, counts, and histograms with NaN below the first edge', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const grads = { a: tf.tensor2d([[0, 5e-3], [0.05, -20]]), b: tf.tensor1d([0.5, Number.NaN, 3]) };
    const s = await expectNoLeak(() => gradientStats(grads, { histogram: { bins: 3, minLog10: -2, maxLog10: 1 } }));
    expect(s.variables[0]).toMatchObject({ zeros: 1, nonFinite: 0, maxAbs: 20 });
    expect(s.variables[0]!.norm).toBeCloseTo(Math.sqrt(25e-6 + 0.0025 + 400), 4);
    expect(s.variables[1]).toMatchObject({ nonFinite: 1 });
    expect(s.variables[1]!.norm).toBeNaN();
    // a: [0, 5e-3] below 1e-2, 0.05 in [1e-2, 1e-1), 20 at/above 10; b: NaN below, 0.5 in [1e-1, 1), 3 in [1, 10).
    expect(s.histogram).toEqual([3, 1, 1, 1, 1]);
    tf.dispose(Object.values(grads));
  });
});
