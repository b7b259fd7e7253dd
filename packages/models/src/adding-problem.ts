import * as tf from '@tensorflow/tfjs-core';
import { checkInt } from './errors';
import { createRandom, randomInt } from './random';

export interface AddingProblemOptions {
  readonly sequenceLength: number;
  readonly samples: number;
  readonly seed?: number;
}

export interface TaskData {
  /** [samples, sequenceLength, 2]: channel 0 a value in [0, 1), channel 1 the marker (1 at two positions). */
  readonly xs: tf.Tensor3D;
  /** [samples, 1]: the sum of the two marked values. */
  readonly ys: tf.Tensor2D;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013): each sequence holds random values and a
 * marker channel with exactly two ones, one in each half; the target is the sum of the two marked values. Predicting
 * the constant 1 gives MSE 1/6 ≈ 0.167, so solving it means an MSE well below that, which needs memory over T steps.
 * Data is a pure function of the options.
 */
export function addingProblem(options: AddingProblemOptions): TaskData {
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
