import * as tf from '@tensorflow/tfjs-core';
import { checkInt, checkPositive } from './errors';
import { createRandom, randomInt } from './random';
import { type Task, type TaskData, accuracy, judge } from './task';

export interface TemporalOrderOptions {
  /** Sequence length T >= 10. */
  readonly sequenceLength: number;
  readonly samples: number;
  readonly seed?: number;
}

/** Symbols: four distractors a–d (0–3) and the two relevant ones X (4) and Y (5), one-hot over 6 channels. */
export const TEMPORAL_ORDER_SYMBOLS = 6;
/** Classes, in order: XX, XY, YX, YY. */
export const TEMPORAL_ORDER_CLASSES = 4;

/**
 * The temporal order problem (Hochreiter & Schmidhuber 1997, task 6a; Pascanu et al. 2013): a sequence of random
 * distractors holds exactly two relevant symbols, each X or Y, the first at a position in [T/10, 2T/10), the second in
 * [4T/10, 5T/10). The class is their order (XX, XY, YX, YY); the information sits at least T/2 steps before the end,
 * so a model must carry it that far. Chance accuracy is 1/4. Classes are exactly balanced: sample s has class s mod 4.
 * xs: [samples, T, 6] one-hot; ys: [samples, 4] one-hot.
 */
export function temporalOrder(options: TemporalOrderOptions): TaskData<tf.Tensor3D, tf.Tensor2D> {
  const where = 'temporalOrder';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength, 10);
  const n = checkInt(where, 'samples', options.samples, 1);
  const random = createRandom(checkInt(where, 'seed', options.seed ?? 1, 0));
  const x = new Float32Array(n * T * TEMPORAL_ORDER_SYMBOLS);
  const y = new Float32Array(n * TEMPORAL_ORDER_CLASSES);
  const [a0, a1] = [Math.floor(T / 10), Math.floor((2 * T) / 10)];
  const [b0, b1] = [Math.floor((4 * T) / 10), Math.floor((5 * T) / 10)];
  for (let s = 0; s < n; s++) {
    const cls = s % TEMPORAL_ORDER_CLASSES;
    const first = a0 + randomInt(random, a1 - a0);
    const second = b0 + randomInt(random, b1 - b0);
    for (let t = 0; t < T; t++) {
      let symbol = randomInt(random, 4);
      if (t === first) symbol = cls < 2 ? 4 : 5;
      if (t === second) symbol = cls % 2 === 0 ? 4 : 5;
      x[(s * T + t) * TEMPORAL_ORDER_SYMBOLS + symbol] = 1;
    }
    y[s * TEMPORAL_ORDER_CLASSES + cls] = 1;
  }
  return {
    xs: tf.tensor3d(x, [n, T, TEMPORAL_ORDER_SYMBOLS]),
    ys: tf.tensor2d(y, [n, TEMPORAL_ORDER_CLASSES]),
  };
}

export interface TemporalOrderTaskOptions {
  readonly sequenceLength: number;
  /** Accuracy at or above which the task counts as solved. Default 0.9 (chance is 0.25). */
  readonly threshold?: number;
}

/** Temporal order as a {@link Task}: 4-way softmax classification, solved at accuracy >= threshold. */
export function temporalOrderTask(options: TemporalOrderTaskOptions): Task {
  const T = checkInt('temporalOrderTask', 'sequenceLength', options.sequenceLength, 10);
  const threshold = checkPositive('temporalOrderTask', 'threshold', options.threshold ?? 0.9);
  const criterion = { metric: 'accuracy', threshold, baseline: 1 / TEMPORAL_ORDER_CLASSES } as const;
  return {
    name: 'temporal-order',
    inputShape: [T, TEMPORAL_ORDER_SYMBOLS],
    outputs: TEMPORAL_ORDER_CLASSES,
    outputActivation: 'softmax',
    returnSequences: false,
    loss: 'categoricalCrossentropy',
    criterion,
    generate: (samples, seed) => temporalOrder({ sequenceLength: T, samples, seed }),
    evaluate: async (predictions, data) => judge(criterion, await accuracy(predictions, data.ys)),
  };
}
