import * as tf from '@tensorflow/tfjs-core';
import { ModelOptionError, checkInt, checkPositive } from './errors';
import { createRandom, randomNormal } from './random';
import { type Task, type TaskData, accuracy, judge } from './task';

export interface TwoSpiralsOptions {
  readonly samples: number;
  /** Turns of each spiral. Default 1. More turns need a deeper, longer-trained net (Lang & Witbrock 1988 used 3). */
  readonly turns?: number;
  /** Standard deviation of Gaussian jitter on each coordinate. Default 0.02. */
  readonly noise?: number;
  /** Multiplies the coordinates. Default 1 (points in the unit disc); large values reproduce unnormalized inputs. */
  readonly inputScale?: number;
  readonly seed?: number;
}

/**
 * Two interleaved spirals (Lang & Witbrock 1988): point i of class c lies at radius r = u and angle
 * 2π·turns·u + πc for u uniform in (0.05, 1]; the classes are exactly balanced (sample s has class s mod 2).
 * xs: [samples, 2]; ys: [samples, 1] with 0/1 labels.
 */
export function twoSpirals(options: TwoSpiralsOptions): TaskData<tf.Tensor2D, tf.Tensor2D> {
  const where = 'twoSpirals';
  const n = checkInt(where, 'samples', options.samples, 2);
  const turns = checkPositive(where, 'turns', options.turns ?? 1);
  const noise = options.noise ?? 0.02;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
    throw new ModelOptionError(`${where}: noise must be a finite number >= 0, got ${JSON.stringify(noise)}.`);
  }
  const scale = checkPositive(where, 'inputScale', options.inputScale ?? 1);
  const random = createRandom(checkInt(where, 'seed', options.seed ?? 1, 0));
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    const c = s % 2;
    const u = 0.05 + 0.95 * (1 - random());
    const angle = 2 * Math.PI * turns * u + Math.PI * c;
    x[2 * s] = scale * (u * Math.cos(angle) + noise * randomNormal(random));
    x[2 * s + 1] = scale * (u * Math.sin(angle) + noise * randomNormal(random));
    y[s] = c;
  }
  return { xs: tf.tensor2d(x, [n, 2]), ys: tf.tensor2d(y, [n, 1]) };
}

export interface TwoSpiralsTaskOptions {
  readonly turns?: number;
  readonly noise?: number;
  readonly inputScale?: number;
  /** Accuracy at or above which the task counts as solved. Default 0.9 (chance is 0.5). */
  readonly threshold?: number;
}

/** Two spirals as a {@link Task}: one sigmoid output, binary cross-entropy, judged by accuracy. */
export function twoSpiralsTask(options: TwoSpiralsTaskOptions = {}): Task {
  const threshold = checkPositive('twoSpiralsTask', 'threshold', options.threshold ?? 0.9);
  const criterion = { metric: 'accuracy', threshold, baseline: 0.5 } as const;
  return {
    name: 'two-spirals',
    inputShape: [2],
    outputs: 1,
    outputActivation: 'sigmoid',
    returnSequences: false,
    loss: 'binaryCrossentropy',
    criterion,
    generate: (samples, seed) => twoSpirals({ ...options, samples, seed }),
    evaluate: async (predictions, data) => judge(criterion, await accuracy(predictions, data.ys)),
  };
}
