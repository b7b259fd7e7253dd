import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { type StepStatistics } from '@gradguard/core';
import { buildMlp } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { describe, expect, it } from 'vitest';
import { guard } from './guard';

/** loss = Σ c·w: the gradient is exactly c, whatever w. */
const C = [0, 0.05, 3, 50, -50, 1e-12];

async function run(backend: string, options: Parameters<typeof guard>[1], steps: number): Promise<StepStatistics[]> {
  await tf.setBackend(backend);
  const w = tf.variable(tf.zeros([C.length]), true, 'w');
  const c = tf.tensor1d(C);
  const stats: StepStatistics[] = [];
  const g = guard(tf.train.sgd(0.1), { print: 'none', onStep: (s) => stats.push(s), ...options });
  for (let i = 0; i < steps; i++) g.minimize(() => tf.sum(tf.mul(c, w)) as tf.Scalar);
  await g.flush();
  tf.dispose([w, c]);
  g.dispose();
  return stats;
}

describe('guard: gradient histograms on a cadence', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const kernel of ['auto', 'device'] as const) {
      it(`${backend}, ${kernel} kernel: histograms on every 3rd measured step, the bins hand-computed`, async () => {
        const stats = await run(backend, { kernel, histogram: { every: 3 } }, 10);
        expect(stats.map((s) => s.histogram !== undefined)).toEqual([true, false, false, true, false, false, true, false, false, true]);
        // 24 bins over 1e-10..1e2 (half-decade edges): count of edges <= |g|. 0 and 1e-12 fall below the first edge;
        // 0.05 = 10^-1.30 passes the 18 edges 10^-10..10^-1.5; 3 = 10^0.48 passes 21; ±50 = 10^1.70 pass 24.
        const expected = Array.from({ length: 26 }, () => 0);
        expected[0] = 2;
        expected[18] = 1;
        expected[21] = 1;
        expected[24] = 2;
        expect(stats[3]!.histogram).toEqual(expected);
        expect(stats[3]!.histogramEdges).toHaveLength(25);
        expect(stats[3]!.histogramEdges![0]).toBeCloseTo(1e-10, 20);
      });
    }
  }

  it('custom bins and statsEvery: every 2nd measured step of every 2nd training step', async () => {
    const stats = await run('cpu', { statsEvery: 2, histogram: { every: 2, bins: 3, minLog10: -2, maxLog10: 1 } }, 12);
    expect(stats.map((s) => s.step)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(stats.map((s) => s.histogram !== undefined)).toEqual([true, false, true, false, true, false]);
    // edges 0.01, 0.1, 1, 10: below 0.01: 0 and 1e-12; [0.01, 0.1): 0.05; [1, 10): 3; >= 10: ±50.
    expect(stats[0]!.histogram).toEqual([2, 1, 0, 1, 2]);
  });

  it('per layer with a model, off by default, and no tensor left behind', async () => {
    await tf.setBackend('cpu');
    const model = buildMlp({ inputs: 3, depth: 2, width: 4, activation: 'relu', outputs: 1, seed: 2 });
    const xs = tf.randomNormal([8, 3], 0, 1, 'float32', 1);
    const ys = tf.randomNormal([8, 1], 0, 1, 'float32', 2);
    const stats: StepStatistics[] = [];
    const plain: StepStatistics[] = [];
    const g = guard('sgd', { model, print: 'none', histogram: true, onStep: (s) => stats.push(s) });
    const h = guard('sgd', { model, print: 'none', onStep: (s) => plain.push(s) });
    const loss = (): tf.Scalar => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar;
    g.minimize(loss);
    h.minimize(loss);
    await expectNoLeak(async () => {
      for (let i = 0; i < 150; i++) g.minimize(loss);
      await g.flush();
    });
    expect(stats.filter((s) => s.histogram !== undefined).map((s) => s.step)).toEqual([0, 100]);
    for (const l of stats[0]!.layers) expect(l.histogram!.reduce((a, b) => a + b, 0)).toBe(l.size);
    expect(plain[0]!.histogram).toBeUndefined();
    expect(plain[0]!.layers.every((l) => l.histogram === undefined)).toBe(true);
    tf.dispose([xs, ys]);
    g.dispose();
    h.dispose();
    model.dispose();
  });

  it('refuses a histogram option it cannot use, naming it', () => {
    expect(() => guard('sgd', { histogram: { every: 0 } })).toThrow(/histogram\.every/);
    expect(() => guard('sgd', { histogram: { evry: 10 } as never })).toThrow(/evry/);
    expect(() => guard('sgd', { histogram: 100 as never })).toThrow(/histogram must be true, false or/);
    expect(() => guard('sgd', { histogram: { minLog10: 2, maxLog10: 1 } })).toThrow(/maxLog10 \(1\) must be above/);
  });
});
