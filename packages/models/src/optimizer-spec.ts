import * as tf from '@tensorflow/tfjs-core';
import { ModelOptionError, checkPositive } from './errors';
import { OPTIMIZER_NAMES, type OptimizerName } from './names';

export { OPTIMIZER_NAMES, type OptimizerName };

/** An optimizer as plain data. `momentum` is used by 'momentum' only (default 0.9). */
export interface OptimizerSpec {
  readonly name: OptimizerName;
  readonly learningRate: number;
  readonly momentum?: number;
}

/** Makes a fresh tfjs optimizer from a spec (the caller disposes it). Adam's epsilon is pinned to 1e-7 on every backend. */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const lr = checkPositive('createOptimizer', 'learningRate', spec.learningRate);
  switch (spec.name) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, checkPositive('createOptimizer', 'momentum', spec.momentum ?? 0.9));
    case 'adam':
      return tf.train.adam(lr, 0.9, 0.999, 1e-7);
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.9, 0, 1e-7);
    default:
      throw new ModelOptionError(
        `createOptimizer: unknown optimizer ${JSON.stringify((spec as { name?: unknown }).name)}; use one of ${OPTIMIZER_NAMES.join(', ')}.`,
      );
  }
}
