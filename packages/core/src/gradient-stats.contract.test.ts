import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { contractGradients, statsContractMismatches } from '@gradguard/vitest-config/stats-contract';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { describe, expect, it } from 'vitest';
import { gradientStats } from './gradient-stats';

// Every kernel on every backend Node can run here, against the float64 reference: NaN, ±Infinity, all-zero, empty,
// huge (1e30) and tiny tensors. The device kernel sums (g / max|g|)² so float32 neither overflows nor underflows.
describe.each(['cpu', 'wasm'])('the statistics contract on %s', (backend) => {
  it.each(['host', 'device'] as const)('%s kernel agrees with the reference to 1e-6 relative', async (kernel) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const grads = contractGradients(tf);
    const s = await expectNoLeak(() => gradientStats(grads, { kernel, weights: false }));
    expect(statsContractMismatches(s.variables, {})).toEqual([]);
    if (kernel === 'host') expect(s.variables.find((v) => v.name === 'huge')!.norm).toBeCloseTo(Math.sqrt(1e60 + 4e60 + 25e58) , -50);
    tf.dispose(Object.values(grads));
  });
});
