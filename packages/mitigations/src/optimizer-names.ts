import * as tf from '@tensorflow/tfjs-core';

/**
 * The optimizer names `model.compile({ optimizer: 'adam' })` accepts, with the settings tfjs-layers gives them (its
 * `getOptimizer`): a name means these rates, not `tf.train.adam()`'s own default — `'adam'` is Adam at 0.001 with
 * epsilon 1e-7.
 */
const BY_NAME: Readonly<Record<string, () => tf.Optimizer>> = {
  adagrad: () => tf.train.adagrad(0.01),
  adadelta: () => tf.train.adadelta(1, 0.95, 1e-7),
  adam: () => tf.train.adam(0.001, 0.9, 0.999, 1e-7),
  adamax: () => tf.train.adamax(0.002, 0.9, 0.999, 1e-7, 0),
  rmsprop: () => tf.train.rmsprop(0.001, 0.9, 0, 1e-7),
  sgd: () => tf.train.sgd(0.01),
};

/** The names `guard` and `model.compile` accept (either case: `'Adam'` and `'adam'`). */
export const OPTIMIZER_NAMES: readonly string[] = Object.keys(BY_NAME);

/** The optimizer `model.compile` would make from `name`, or undefined when tfjs knows no such name. */
export function optimizerFromName(name: string): tf.Optimizer | undefined {
  return BY_NAME[name.toLowerCase()]?.();
}
