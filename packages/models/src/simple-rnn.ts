import * as tf from '@tensorflow/tfjs-layers';
import { checkInt, checkPositive } from './errors';
import { orthogonal } from './initializers';

export interface SimpleRnnOptions {
  /** Time steps per sequence. */
  readonly sequenceLength: number;
  /** Features per time step. Default 2 (the adding problem's value and marker). */
  readonly features?: number;
  /** Hidden units. Default 32. */
  readonly units?: number;
  /** Activation of the recurrence. Default 'relu' (tanh saturates and hides explosions). */
  readonly activation?: 'relu' | 'tanh' | 'linear' | 'sigmoid';
  /**
   * Gain of the orthogonal recurrent kernel, i.e. its spectral radius. Above 1, gradients through T steps can grow like
   * gain^T. Default 1.
   */
  readonly recurrentGain?: number;
  /** Output units of the dense head. Default 1. */
  readonly outputs?: number;
  /** Seeds every initializer: the same seed gives identical weights. Default 1. */
  readonly seed?: number;
}

/**
 * A SimpleRNN followed by a dense head, seeded. With `activation: 'relu'` and `recurrentGain: 1.5` at T = 50 and SGD
 * lr 0.1 its gradients explode within a couple of steps; with gain 1 the same setup is stable.
 */
export function buildSimpleRnn(options: SimpleRnnOptions): tf.Sequential {
  const where = 'buildSimpleRnn';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength, 1);
  const features = checkInt(where, 'features', options.features ?? 2, 1);
  const units = checkInt(where, 'units', options.units ?? 32, 1);
  const gain = checkPositive(where, 'recurrentGain', options.recurrentGain ?? 1);
  const outputs = checkInt(where, 'outputs', options.outputs ?? 1, 1);
  const seed = checkInt(where, 'seed', options.seed ?? 1, 0);
  const model = tf.sequential({ name: 'simple_rnn_model' });
  model.add(
    tf.layers.simpleRNN({
      name: 'rnn',
      units,
      activation: options.activation ?? 'relu',
      inputShape: [T, features],
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      recurrentInitializer: orthogonal(gain, seed + 1),
      biasInitializer: 'zeros',
    }),
  );
  model.add(tf.layers.dense({ name: 'head', units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }));
  return model;
}
