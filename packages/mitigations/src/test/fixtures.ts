import * as tf from '@tensorflow/tfjs';
import { type Diagnosis, createMonitor, type StepStatistics } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { guard, type GuardOptions } from '../guard';
import type { GradientTransformation } from '../transformation';

/** Gradients of every rank the issue names, with fixed values (no RNG): scalar, vector, matrix, 3-D, 4-D. */
export const SHAPES: Readonly<Record<string, { v: number[]; shape: number[] }>> = {
  scalar: { v: [3], shape: [] },
  vector: { v: [1, -2, 2], shape: [3] },
  matrix: { v: [0.5, -1, 4, 2, 0, -3], shape: [2, 3] },
  recurrent3d: { v: Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 5), shape: [2, 3, 2] },
  conv4d: { v: Array.from({ length: 16 }, (_, i) => (i % 5) - 2 + 0.25 * i), shape: [2, 2, 2, 2] },
};

/** Weights for the same shapes (AGC and weight decay need them). */
export const WEIGHTS: Readonly<Record<string, { v: number[]; shape: number[] }>> = Object.fromEntries(
  Object.entries(SHAPES).map(([k, { shape, v }]) => [k, { shape, v: v.map((_, i) => Math.cos(1.7 * i + k.length) * 0.8) }]),
);

export function tensors(values: Readonly<Record<string, { v: number[]; shape: number[] }>>): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [k, { v, shape }] of Object.entries(values)) out[k] = tf.tensor(v, shape);
  return out;
}

export async function read(m: tf.NamedTensorMap): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(m)) out[k] = Array.from(await t.data());
  return out;
}

/** One update of `t` on `grads` (and `params`), read back; disposes what it made. */
export async function applyOnce(
  t: GradientTransformation,
  grads: Readonly<Record<string, { v: number[]; shape: number[] }>>,
  params: Readonly<Record<string, { v: number[]; shape: number[] }>> = {},
): Promise<Record<string, number[]>> {
  const g = tensors(grads);
  const p = tensors(params);
  const state = t.init(p);
  const [out, next] = t.update(g, state, p);
  for (const k of Object.keys(g)) if (out[k]!.shape.join() !== g[k]!.shape.join()) throw new Error(`shape of ${k} changed`);
  const got = await read(out);
  for (const k of Object.keys(out)) if (out[k] !== g[k]) out[k]!.dispose();
  tf.dispose([...Object.values(g), ...Object.values(p)]);
  const { disposeState } = await import('../transformation');
  disposeState(next);
  return got;
}

export interface RunResult {
  readonly losses: number[];
  readonly steps: StepStatistics[];
  readonly weightsFinite: boolean;
  readonly diagnoses: readonly Diagnosis[];
}

/** The skeleton's exploding fixture: relu SimpleRNN, orthogonal recurrent kernel of gain 1.5, T = 50, SGD lr 0.1. */
export async function trainExplodingRnn(options: GuardOptions, epochs = 2, seed = 1): Promise<RunResult> {
  const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed });
  const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed });
  return fitGuarded(model, xs, ys, tf.train.sgd(0.1), options, epochs);
}

/**
 * A deep ReLU MLP with too-large initialization: 8 Dense(16, relu) layers whose kernels are N(0, 1) (He would be
 * N(0, 2/16)), so every layer multiplies the signal by ~2.8 and the gradients of the first layers by ~2.8⁸.
 */
export function buildDeepReluMlp(seed = 1, depth = 8, width = 16): tf.Sequential {
  const model = tf.sequential({ name: 'deep_relu_mlp' });
  for (let i = 0; i < depth; i++) {
    model.add(
      tf.layers.dense({
        name: `dense_${i}`,
        units: width,
        activation: 'relu',
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: seed + i }),
        ...(i === 0 ? { inputShape: [width] } : {}),
      }),
    );
  }
  model.add(tf.layers.dense({ name: 'head', units: 1, kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: seed + 99 }) }));
  return model;
}

/** Regression data for the MLP: y = sum of the first four inputs, x ~ U(-1, 1) from a fixed formula. */
export function mlpData(samples = 256, width = 16): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = Array.from({ length: samples * width }, (_, i) => Math.sin(i * 12.9898 + 78.233) % 1);
  const y = Array.from({ length: samples }, (_, s) => x.slice(s * width, s * width + 4).reduce((a, b) => a + b, 0));
  return { xs: tf.tensor2d(x, [samples, width]), ys: tf.tensor2d(y, [samples, 1]) };
}

export async function trainExplodingMlp(options: GuardOptions, epochs = 3, seed = 1, lr = 0.01): Promise<RunResult> {
  const model = buildDeepReluMlp(seed);
  const { xs, ys } = mlpData();
  return fitGuarded(model, xs, ys, tf.train.sgd(lr), options, epochs);
}

async function fitGuarded(
  model: tf.Sequential,
  xs: tf.Tensor,
  ys: tf.Tensor,
  optimizer: tf.Optimizer,
  options: GuardOptions,
  epochs: number,
): Promise<RunResult> {
  const steps: StepStatistics[] = [];
  const guarded = guard(optimizer, { model, monitor: createMonitor(), onStep: (s) => steps.push(s), ...options });
  model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs, batchSize: 32, verbose: 0, shuffle: false });
  await guarded.flush();
  const weightsFinite = (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
  tf.dispose([xs, ys]);
  const diagnoses = guarded.monitor?.diagnoses ?? [];
  guarded.dispose();
  model.dispose();
  return { losses: history.history.loss as number[], steps, weightsFinite, diagnoses };
}

export interface SpikeRunResult extends RunResult {
  readonly guarded: { readonly rollbacks: readonly unknown[]; readonly problem: unknown; readonly skipped: number };
  readonly error: unknown;
}

/**
 * A healthy run hit by one outlier batch: a relu SimpleRNN (gain 1, T = 20, 16 units) on the adding problem with
 * SGD 0.1 trains stably, until the inputs of batch `at` are multiplied by `factor`. Unprotected, that single batch
 * makes the weights NaN within a couple of steps. A custom loop through `guarded.minimize`.
 */
export async function trainWithSpike(options: GuardOptions, factor = 1000, at = 30, steps = 50, optimizer: () => tf.Optimizer = () => tf.train.sgd(0.1)): Promise<SpikeRunResult> {
  const model = buildSimpleRnn({ sequenceLength: 20, recurrentGain: 1, seed: 2, units: 16 });
  const { xs, ys } = addingProblem({ sequenceLength: 20, samples: 32 * steps, seed: 2 });
  const stats: StepStatistics[] = [];
  const guarded = guard(optimizer(), { model, monitor: createMonitor(), onStep: (s) => stats.push(s), ...options });
  const losses: number[] = [];
  let error: unknown;
  try {
    for (let i = 0; i < steps; i++) {
      const cost = tf.tidy(() => {
        const x = xs.slice([i * 32, 0, 0], [32, 20, 2]);
        const y = ys.slice([i * 32, 0], [32, 1]);
        const xi = i === at ? tf.mul(x, factor) : x;
        return guarded.minimize(() => tf.losses.meanSquaredError(y, model.apply(xi) as tf.Tensor) as tf.Scalar, true)!;
      });
      losses.push((await cost.data())[0]!);
      cost.dispose();
    }
    await guarded.flush();
  } catch (e) {
    error = e;
  }
  const weightsFinite = (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
  const result = {
    losses,
    steps: stats,
    weightsFinite,
    diagnoses: guarded.monitor?.diagnoses ?? [],
    guarded: { rollbacks: [...guarded.rollbacks], problem: guarded.problem, skipped: guarded.skipped },
    error,
  };
  tf.dispose([xs, ys]);
  guarded.dispose();
  model.dispose();
  return result;
}
