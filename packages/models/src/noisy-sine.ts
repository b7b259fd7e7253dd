import * as tf from '@tensorflow/tfjs-core';
import { ModelOptionError, checkInt, checkPositive } from './errors';
import { createRandom, randomNormal } from './random';
import { type Task, type TaskData, judge, meanSquaredError } from './task';

export interface NoisySineOptions {
  /** Observed steps per window (T). */
  readonly sequenceLength: number;
  readonly samples: number;
  /** Standard deviation of the observation noise. Default 0.1. */
  readonly noise?: number;
  /**
   * Multiplies the inputs (not the targets). Default 1. Large values reproduce unnormalized inputs: the first layer's
   * gradients grow with the input scale.
   */
  readonly inputScale?: number;
  /** Give xs as [samples, T] (a window for an MLP) instead of [samples, T, 1]. Default false. */
  readonly flatten?: boolean;
  readonly seed?: number;
}

/**
 * Next-step prediction of a noisy sine: each window observes x_t = s·(sin(ωt + φ) + σ·ε_t) for t < T, with ω uniform
 * in [0.2, 0.6] rad/step, φ uniform in [0, 2π) and ε standard normal; the target is the clean next value
 * sin(ωT + φ). Predicting 0 scores MSE ≈ 0.5 (the variance of a sine).
 * xs: [samples, T, 1] (or [samples, T] with `flatten`); ys: [samples, 1] in [-1, 1].
 */
export function noisySine(options: NoisySineOptions): TaskData<tf.Tensor3D | tf.Tensor2D, tf.Tensor2D> {
  const where = 'noisySine';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength, 2);
  const n = checkInt(where, 'samples', options.samples, 1);
  const sigma = options.noise ?? 0.1;
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) {
    throw new ModelOptionError(`${where}: noise must be a finite number >= 0, got ${JSON.stringify(sigma)}.`);
  }
  const scale = checkPositive(where, 'inputScale', options.inputScale ?? 1);
  const random = createRandom(checkInt(where, 'seed', options.seed ?? 1, 0));
  const x = new Float32Array(n * T);
  const y = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    const omega = 0.2 + 0.4 * random();
    const phi = 2 * Math.PI * random();
    for (let t = 0; t < T; t++) x[s * T + t] = scale * (Math.sin(omega * t + phi) + sigma * randomNormal(random));
    y[s] = Math.sin(omega * T + phi);
  }
  return { xs: options.flatten ? tf.tensor2d(x, [n, T]) : tf.tensor3d(x, [n, T, 1]), ys: tf.tensor2d(y, [n, 1]) };
}

export interface NoisySineTaskOptions {
  readonly sequenceLength: number;
  readonly noise?: number;
  readonly inputScale?: number;
  /** Windows as flat vectors, for an MLP. Default false. */
  readonly flatten?: boolean;
  /** MSE below which the task counts as solved. Default 0.05 (R² ≈ 0.9). */
  readonly threshold?: number;
}

/** Noisy-sine next-step prediction as a {@link Task}. */
export function noisySineTask(options: NoisySineTaskOptions): Task {
  const T = checkInt('noisySineTask', 'sequenceLength', options.sequenceLength, 2);
  const threshold = checkPositive('noisySineTask', 'threshold', options.threshold ?? 0.05);
  const criterion = { metric: 'mse', threshold, baseline: 0.5 } as const;
  return {
    name: 'noisy-sine',
    inputShape: options.flatten ? [T] : [T, 1],
    outputs: 1,
    outputActivation: 'linear',
    returnSequences: false,
    loss: 'meanSquaredError',
    criterion,
    generate: (samples, seed) =>
      noisySine({ ...options, sequenceLength: T, samples, seed }),
    evaluate: async (predictions, data) => judge(criterion, await meanSquaredError(predictions, data.ys)),
  };
}
