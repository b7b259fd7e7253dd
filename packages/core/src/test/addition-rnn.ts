// Test-only: the shape of the public tfjs addition-rnn example (a sequence-to-sequence adder), re-expressed as an
// Embedding → LSTM encoder → RepeatVector → LSTM decoder → TimeDistributed(Dense softmax) model on seeded data.
import * as tf from '@tensorflow/tfjs';
import { createRandom, randomInt } from '@gradguard/models';

/** The characters of "123+45" strings and their answers: digits, plus and the padding space. */
export const ADDITION_CHARS = '0123456789+ ';

/** `samples` questions "a+b" (a, b < 10^digits) padded to 2·digits+1 characters, answers padded to digits+1. */
export function additionData(samples: number, digits: number, seed: number): { xs: tf.Tensor2D; ys: tf.Tensor3D } {
  const random = createRandom(seed);
  const inLen = 2 * digits + 1;
  const outLen = digits + 1;
  const xs: number[][] = [];
  const ys: number[][] = [];
  const max = 10 ** digits;
  for (let i = 0; i < samples; i++) {
    const a = randomInt(random, max);
    const b = randomInt(random, max);
    const q = `${a}+${b}`.padEnd(inLen, ' ');
    const ans = String(a + b).padEnd(outLen, ' ');
    xs.push([...q].map((c) => ADDITION_CHARS.indexOf(c)));
    ys.push([...ans].map((c) => ADDITION_CHARS.indexOf(c)));
  }
  return tf.tidy(() => ({
    xs: tf.tensor2d(xs, [samples, inLen], 'float32'),
    ys: tf.oneHot(tf.tensor2d(ys, [samples, outLen], 'int32'), ADDITION_CHARS.length).toFloat() as tf.Tensor3D,
  }));
}

/** The encoder–decoder, seeded; `units` per LSTM. */
export function additionRnn(digits: number, units: number, seed: number): tf.Sequential {
  const v = ADDITION_CHARS.length;
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: v, outputDim: 16, inputLength: 2 * digits + 1, name: 'embedding', embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }) }),
      tf.layers.lstm({ units, name: 'encoder', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 2 }) }),
      tf.layers.repeatVector({ n: digits + 1, name: 'repeat' }),
      tf.layers.lstm({ units, returnSequences: true, name: 'decoder', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }), recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 4 }) }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: v, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 5 }) }), name: 'output' }),
    ],
  });
}

/** Mean categorical cross-entropy of softmax outputs (what model.compile's 'categoricalCrossentropy' computes). */
export function crossEntropy(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1))) as tf.Scalar);
}
