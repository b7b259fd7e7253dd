import * as tf from '@tensorflow/tfjs';
import { createMonitor, type StepStatistics } from '@gradguard/core';
import { buildMlp } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { guard } from './guard';
import { skipNonFinite } from './skip-non-finite';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A 3-layer MLP trained `steps` steps with a guarded SGD; returns the steps that carried weight norms. */
async function weightSteps(options: { weightsEvery?: number; statsEvery?: number; poison?: number }, steps = 40): Promise<{ measured: number[]; stats: StepStatistics[] }> {
  const model = buildMlp({ inputs: 4, depth: 2, width: 8, activation: 'relu', outputs: 1, seed: 3 });
  const stats: StepStatistics[] = [];
  const { poison, ...cadence } = options;
  const guarded = guard(tf.train.sgd(0.01), {
    model, monitor: createMonitor(), print: 'none', onStep: (s) => stats.push(s), ...cadence,
    ...(poison !== undefined ? { transform: skipNonFinite() } : {}),
  });
  const xs = tf.randomNormal([16, 4], 0, 1, 'float32', 7);
  const ys = tf.randomNormal([16, 1], 0, 1, 'float32', 8);
  for (let i = 0; i < steps; i++) {
    guarded.minimize(() => {
      const loss = tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar;
      return i === poison ? (loss.mul(Number.NaN) as tf.Scalar) : loss;
    });
  }
  await guarded.flush();
  tf.dispose([xs, ys]);
  model.dispose();
  guarded.dispose();
  return { measured: stats.filter((s) => s.weightNorm !== undefined).map((s) => s.step), stats };
}

describe('guard: weight norms on a cadence (weightsEvery)', () => {
  it('by default: the first 10 measured steps, then every 10th', async () => {
    const { measured, stats } = await weightSteps({});
    expect(stats).toHaveLength(40);
    expect(measured).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30]);
    // Steps without weight norms carry no per-layer weight norm either; steps with them carry one per layer.
    expect(stats[15]!.layers.every((l) => l.weightNorm === undefined)).toBe(true);
    expect(stats[20]!.layers.every((l) => l.weightNorm! > 0)).toBe(true);
  });

  it('counts measured steps, not training steps, with statsEvery', async () => {
    const { measured } = await weightSteps({ statsEvery: 2, weightsEvery: 5 }, 40);
    // measured steps 0, 2, ..., 38 are indices 0..19: the first 10 (steps 0..18), then indices 10 and 15 (steps 20, 30).
    expect(measured).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 30]);
  });

  it('weightsEvery: 1 measures them on every step', async () => {
    const { measured } = await weightSteps({ weightsEvery: 1 }, 25);
    expect(measured).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('measures them on the step after non-finite gradients, and while that problem is active', async () => {
    // NaN gradients at step 13, skipped (skipNonFinite): the weights stay finite, which step 14 confirms; the critical
    // non-finite problem stays active for the monitor's 20 quiet steps (recovery at step 33), so every step measures.
    const { measured, stats } = await weightSteps({ poison: 13 });
    expect(stats[13]!.nonFinite).toBeGreaterThan(0);
    expect(stats[13]!.skipped).toBe(true);
    expect(measured).toEqual([...Array.from({ length: 11 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 14 + i)]);
    expect(Number.isFinite(stats[14]!.weightNorm)).toBe(true);
  });

  it('leaves tf.memory().numTensors unchanged over 60 steps that switch between measuring the weights and not', async () => {
    const model = buildMlp({ inputs: 4, depth: 2, width: 8, activation: 'relu', outputs: 1, seed: 5 });
    const xs = tf.randomNormal([16, 4], 0, 1, 'float32', 9);
    const ys = tf.randomNormal([16, 1], 0, 1, 'float32', 10);
    const measured: boolean[] = [];
    const guarded = guard(tf.train.adam(0.01), { model, monitor: createMonitor(), print: 'none', weightsEvery: 3, onStep: (s) => measured.push(s.weightNorm !== undefined) });
    const step = (): void => {
      guarded.minimize(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
    };
    for (let i = 0; i < 12; i++) step(); // Adam's slots are made at the first step; the first 10 measure the weights
    await expectNoLeak(async () => {
      for (let i = 0; i < 60; i++) step();
      await guarded.flush();
    });
    expect(measured.slice(12).filter(Boolean)).toHaveLength(20); // every 3rd of steps 12..71: both paths ran
    guarded.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it('refuses a weightsEvery that is not a positive integer, naming it', () => {
    expect(() => guard('adam', { weightsEvery: 0 })).toThrow(/weightsEvery/);
    expect(() => guard('adam', { weightsEvery: 2.5 })).toThrow(/weightsEvery/);
  });
});
