import * as tf from '@tensorflow/tfjs-core';
import { checkInt, checkPositive } from './errors';
import { createRandom, randomInt } from './random';
import { type Task, type TaskData, accuracy, judge } from './task';

export interface CopyMemoryOptions {
  /** Steps between the end of the pattern and the recall cue (T). */
  readonly delay: number;
  /** Symbols to memorize (K). Default 3. */
  readonly length?: number;
  /** Distinct symbols (C). Default 4. */
  readonly alphabet?: number;
  readonly samples: number;
  readonly seed?: number;
}

/**
 * The copy (memorization) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): K random symbols, then T − 1
 * blanks, then a cue, then K blanks; at the last K steps the model must output the K symbols in order, and a blank
 * everywhere else. Sequence length T + 2K. Input channels: blank (0), symbols 1..C, cue C + 1; output channels: blank
 * (0) and symbols 1..C. A memoryless model recalls a symbol with probability 1/C.
 * xs: [samples, T + 2K, C + 2]; ys: [samples, T + 2K, C + 1], both one-hot.
 */
export function copyMemory(options: CopyMemoryOptions): TaskData<tf.Tensor3D, tf.Tensor3D> {
  const where = 'copyMemory';
  const T = checkInt(where, 'delay', options.delay, 1);
  const K = checkInt(where, 'length', options.length ?? 3, 1);
  const C = checkInt(where, 'alphabet', options.alphabet ?? 4, 2);
  const n = checkInt(where, 'samples', options.samples, 1);
  const random = createRandom(checkInt(where, 'seed', options.seed ?? 1, 0));
  const L = T + 2 * K;
  const inC = C + 2;
  const outC = C + 1;
  const x = new Float32Array(n * L * inC);
  const y = new Float32Array(n * L * outC);
  for (let s = 0; s < n; s++) {
    const symbols = Array.from({ length: K }, () => 1 + randomInt(random, C));
    for (let t = 0; t < L; t++) {
      const input = t < K ? symbols[t]! : t === K + T - 1 ? C + 1 : 0;
      const output = t >= L - K ? symbols[t - (L - K)]! : 0;
      x[(s * L + t) * inC + input] = 1;
      y[(s * L + t) * outC + output] = 1;
    }
  }
  return { xs: tf.tensor3d(x, [n, L, inC]), ys: tf.tensor3d(y, [n, L, outC]) };
}

export interface CopyTaskOptions {
  readonly delay: number;
  readonly length?: number;
  readonly alphabet?: number;
  /** Recall accuracy over the last K steps at or above which the task counts as solved. Default 0.9. */
  readonly threshold?: number;
}

/** Copy as a {@link Task}: per-step softmax, judged by the accuracy of the K recalled symbols only. */
export function copyTask(options: CopyTaskOptions): Task {
  const where = 'copyTask';
  const T = checkInt(where, 'delay', options.delay, 1);
  const K = checkInt(where, 'length', options.length ?? 3, 1);
  const C = checkInt(where, 'alphabet', options.alphabet ?? 4, 2);
  const threshold = checkPositive(where, 'threshold', options.threshold ?? 0.9);
  const criterion = { metric: 'accuracy', threshold, baseline: 1 / C } as const;
  const L = T + 2 * K;
  return {
    name: 'copy',
    inputShape: [L, C + 2],
    outputs: C + 1,
    outputActivation: 'softmax',
    returnSequences: true,
    loss: 'categoricalCrossentropy',
    criterion,
    generate: (samples, seed) => copyMemory({ delay: T, length: K, alphabet: C, samples, seed }),
    evaluate: async (predictions, data) => {
      const [p, y] = tf.tidy(() => [
        tf.slice(predictions, [0, L - K, 0], [-1, K, -1]),
        tf.slice(data.ys, [0, L - K, 0], [-1, K, -1]),
      ]);
      try {
        return judge(criterion, await accuracy(p!, y!));
      } finally {
        tf.dispose([p!, y!]);
      }
    },
  };
}
