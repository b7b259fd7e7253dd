import * as tf from '@tensorflow/tfjs-core';
import { checkInt, checkPositive } from './errors';
import { createRandom, randomInt } from './random';
import { type Task, type TaskData, judge, meanSquaredError } from './task';

export interface AddingProblemOptions {
  readonly sequenceLength: number;
  readonly samples: number;
  readonly seed?: number;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013): each sequence holds random values and a
 * marker channel with exactly two ones, one in each half; the target is the sum of the two marked values. Predicting
 * the constant 1 gives MSE 1/6 ≈ 0.167, so solving it means an MSE well below that, which needs memory over T steps.
 * Data is a pure function of the options. xs: [samples, T, 2], channel 0 a value in [0, 1), channel 1 the marker;
 * ys: [samples, 1], the sum of the two marked values.
 */
export function addingProblem(options: AddingProblemOptions): TaskData<tf.Tensor3D, tf.Tensor2D> {
  const where = 'addingProblem';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength, 2);
  const n = checkInt(where, 'samples', options.samples, 1);
  const seed = checkInt(where, 'seed', options.seed ?? 1, 0);
  const random = createRandom(seed);
  const x = new Float32Array(n * T * 2);
  const y = new Float32Array(n);
  const half = Math.floor(T / 2);
  for (let s = 0; s < n; s++) {
    const first = randomInt(random, half);
    const second = half + randomInt(random, T - half);
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const v = random();
      const o = (s * T + t) * 2;
      x[o] = v;
      if (t === first || t === second) {
        x[o + 1] = 1;
        sum += v;
      }
    }
    y[s] = sum;
  }
  return { xs: tf.tensor3d(x, [n, T, 2]), ys: tf.tensor2d(y, [n, 1]) };
}

/** Mean squared error of always predicting the mean target (1): the adding problem's trivial baseline, 1/6. */
export const ADDING_BASELINE_MSE = 1 / 6;

export interface AddingTaskOptions {
  readonly sequenceLength: number;
  /** MSE below which the task counts as solved. Default 0.04, a quarter of the 1/6 baseline. */
  readonly threshold?: number;
}

/** The adding problem as a {@link Task}: MSE regression, solved below `threshold`. */
export function addingTask(options: AddingTaskOptions): Task {
  const T = checkInt('addingTask', 'sequenceLength', options.sequenceLength, 2);
  const threshold = checkPositive('addingTask', 'threshold', options.threshold ?? 0.04);
  const criterion = { metric: 'mse', threshold, baseline: ADDING_BASELINE_MSE } as const;
  return {
    name: 'adding',
    inputShape: [T, 2],
    outputs: 1,
    outputActivation: 'linear',
    returnSequences: false,
    loss: 'meanSquaredError',
    criterion,
    generate: (samples, seed) => addingProblem({ sequenceLength: T, samples, seed }),
    evaluate: async (predictions, data) => judge(criterion, await meanSquaredError(predictions, data.ys)),
  };
}
