import * as tf from '@tensorflow/tfjs';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { UsageError } from './errors';

export const MODELS = ['simple-rnn', 'lstm', 'gru', 'mlp'] as const;
export type ModelName = (typeof MODELS)[number];
export const TASKS = ['adding'] as const;
export type TaskName = (typeof TASKS)[number];
export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const ACTIVATIONS = ['relu', 'tanh', 'linear', 'sigmoid'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export interface ModelChoice {
  readonly model: ModelName;
  readonly sequenceLength: number;
  readonly units: number;
  /** Recurrence activation (simple-rnn) or hidden activation (mlp). */
  readonly activation: ActivationName;
  /** Gain of the orthogonal recurrent kernel (recurrent models): its spectral radius. */
  readonly recurrentGain: number;
  /** Hidden layers of the MLP. */
  readonly depth: number;
  readonly seed: number;
}

/**
 * The model `train` builds: the seeded SimpleRNN from @gradguard/models, or an LSTM/GRU/MLP of the same shape (a
 * recurrent layer or `depth` dense layers, then a dense head), seeded the same way so runs repeat exactly.
 */
export function buildModel(c: ModelChoice): tf.LayersModel {
  if (c.model === 'simple-rnn') {
    return buildSimpleRnn({ sequenceLength: c.sequenceLength, units: c.units, activation: c.activation, recurrentGain: c.recurrentGain, seed: c.seed });
  }
  const glorot = (k: number) => tf.initializers.glorotUniform({ seed: c.seed * 1009 + k });
  const model = tf.sequential({ name: `${c.model}_model` });
  if (c.model === 'mlp') {
    model.add(tf.layers.flatten({ inputShape: [c.sequenceLength, 2], name: 'flatten' }));
    for (let i = 0; i < c.depth; i++) {
      model.add(tf.layers.dense({ units: c.units, activation: c.activation, kernelInitializer: glorot(i + 1), name: `dense_${i + 1}` }));
    }
  } else {
    const options = {
      units: c.units,
      inputShape: [c.sequenceLength, 2],
      kernelInitializer: glorot(1),
      recurrentInitializer: tf.initializers.orthogonal({ gain: c.recurrentGain, seed: c.seed * 1009 + 2 }),
      name: c.model,
    };
    model.add(c.model === 'lstm' ? tf.layers.lstm(options) : tf.layers.gru(options));
  }
  model.add(tf.layers.dense({ units: 1, kernelInitializer: glorot(99), name: 'head' }));
  return model;
}

export interface TaskChoice {
  readonly task: TaskName;
  readonly sequenceLength: number;
  readonly samples: number;
  readonly seed: number;
}

/** Training data for the task: the adding problem (Hochreiter & Schmidhuber 1997), MSE regression. */
export function buildTask(c: TaskChoice): { xs: tf.Tensor; ys: tf.Tensor; loss: string } {
  if (c.sequenceLength < 2) throw new UsageError(`--seq-len ${c.sequenceLength} is too short for the adding problem.`, 'Use --seq-len 2 or more.');
  const data = addingProblem({ sequenceLength: c.sequenceLength, samples: c.samples, seed: c.seed });
  return { xs: data.xs, ys: data.ys, loss: 'meanSquaredError' };
}

export function buildOptimizer(name: OptimizerName, lr: number): tf.Optimizer {
  switch (name) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, 0.9);
    case 'adam':
      return tf.train.adam(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
  }
}
