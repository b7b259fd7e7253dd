import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelOptionError } from '../errors';
import { createInitializer, orthogonal } from '../initializers';
import { BATCH_NORM_MOMENTUM, seedFor } from '../recurrent';
import { type Case, type CaseInitializer, type CaseLayer, type CaseOptimizer, CASE_LAYER_TYPES } from './case';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** Keras' initializer by name, seeded (tfjs' normal variants get the truncation correction `createInitializer` applies). */
export function caseInitializer(spec: CaseInitializer, seed: number): Initializer {
  if (typeof spec === 'object') {
    if (spec.name === 'random_uniform') return tfl.initializers.randomUniform({ minval: spec.minval, maxval: spec.maxval, seed });
    if (spec.name === 'random_normal') return tfl.initializers.randomNormal({ mean: 0, stddev: spec.stddev, seed });
    return orthogonal(spec.gain, seed);
  }
  switch (spec) {
    case 'glorot_uniform':
    case 'glorot_normal':
    case 'he_uniform':
    case 'he_normal':
    case 'lecun_normal':
      return createInitializer({ kind: spec.replace('_', '-') as 'glorot-uniform' }, seed);
    case 'orthogonal':
      return orthogonal(1, seed);
    case 'zeros':
      return tfl.initializers.zeros();
    case 'ones':
      return tfl.initializers.ones();
    default:
      throw new ModelOptionError(`caseInitializer: unknown initializer ${JSON.stringify(spec)}; use a Keras name such as 'glorot_uniform'.`);
  }
}

/**
 * Builds a case's model as its source declared it, every initializer seeded from `seed` (Keras' defaults where the
 * source left one out: glorot-uniform kernels, orthogonal recurrent kernels, zero biases).
 */
export function buildCaseModel(c: Pick<Case, 'name' | 'inputShape' | 'layers'>, seed: number): tfl.Sequential {
  const model = tfl.sequential({ name: c.name.replace(/[^A-Za-z0-9_]/g, '_') });
  c.layers.forEach((layer, i) => model.add(makeLayer(layer, i, seed, i === 0 ? c.inputShape : undefined)));
  return model;
}

function makeLayer(layer: CaseLayer, i: number, seed: number, inputShape: readonly number[] | undefined): tfl.layers.Layer {
  const name = `${layer.type.toLowerCase()}_${i + 1}`;
  const first = inputShape ? { inputShape: [...inputShape] } : {};
  const init = (spec: CaseInitializer | undefined, fallback: CaseInitializer, role: number): Initializer => caseInitializer(spec ?? fallback, seedFor(seed, i, role));
  switch (layer.type) {
    case 'dense':
      return tfl.layers.dense({
        name,
        units: layer.units,
        activation: layer.activation ?? 'linear',
        kernelInitializer: init(layer.kernelInitializer, 'glorot_uniform', 0),
        biasInitializer: init(layer.biasInitializer, 'zeros', 2),
        ...first,
      });
    case 'lstm':
    case 'gru':
    case 'simpleRNN': {
      const config = {
        name,
        units: layer.units,
        activation: layer.activation ?? 'tanh',
        returnSequences: layer.returnSequences ?? false,
        kernelInitializer: init(layer.kernelInitializer, 'glorot_uniform', 0),
        recurrentInitializer: init(layer.recurrentInitializer, 'orthogonal', 1),
        biasInitializer: tfl.initializers.zeros(),
        ...first,
      };
      return layer.type === 'lstm' ? tfl.layers.lstm(config) : layer.type === 'gru' ? tfl.layers.gru(config) : tfl.layers.simpleRNN(config);
    }
    case 'embedding':
      // Keras' default embedding initializer is U(−0.05, 0.05).
      return tfl.layers.embedding({
        name,
        inputDim: layer.inputDim,
        outputDim: layer.outputDim,
        embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seedFor(seed, i, 0) }),
        ...(inputShape ? { inputLength: inputShape[0]! } : {}),
      });
    case 'repeatVector':
      return tfl.layers.repeatVector({ name, n: layer.n, ...first });
    case 'timeDistributedDense':
      return tfl.layers.timeDistributed({
        name,
        layer: tfl.layers.dense({ units: layer.units, activation: layer.activation ?? 'linear', kernelInitializer: init(undefined, 'glorot_uniform', 0) }),
        ...first,
      });
    case 'batchNormalization':
      return tfl.layers.batchNormalization({ name, momentum: BATCH_NORM_MOMENTUM, ...first });
    case 'dropout':
      return tfl.layers.dropout({ name, rate: layer.rate, seed: seedFor(seed, i, 0), ...first });
    case 'flatten':
      return tfl.layers.flatten({ name, ...first });
    default:
      throw new ModelOptionError(
        `buildCaseModel: unknown layer type ${JSON.stringify((layer as { type?: unknown }).type)}; use one of ${CASE_LAYER_TYPES.join(', ')}.`,
      );
  }
}

/** Keras' defaults for an optimizer class constructed with only some arguments. */
const KERAS_DEFAULTS = {
  sgd: 0.01,
  adam: 0.001,
  rmsprop: 0.001,
  adagrad: 0.01,
  adamax: 0.002,
  adadelta: 1,
} as const;

/** tfjs-layers' settings for an optimizer given by name to `model.compile` (its getOptimizer). */
const BY_NAME_RATE = { sgd: 0.01, adam: 0.001, rmsprop: 0.001, adagrad: 0.01, adamax: 0.002, adadelta: 1 } as const;

/** The learning rate a case's optimizer runs at (the source's, or the default its name or class implies). */
export function caseLearningRate(o: CaseOptimizer): number {
  return o.learningRate ?? (o.byName ? BY_NAME_RATE[o.name] : KERAS_DEFAULTS[o.name]);
}

/**
 * The tfjs optimizer for a case's optimizer spec (Keras semantics: SGD with `momentum` > 0 is tfjs' momentum
 * optimizer; epsilon 1e-7 everywhere, as Keras and tfjs-layers' named optimizers use). `clipnorm`/`clipvalue` are not
 * applied here: they need a clipping wrapper (gradguard's `guard` takes them as Keras does).
 */
export function createCaseOptimizer(o: CaseOptimizer): tf.Optimizer {
  const lr = caseLearningRate(o);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new ModelOptionError(`createCaseOptimizer: learningRate must be a number > 0, got ${JSON.stringify(o.learningRate)}.`);
  const eps = o.epsilon ?? 1e-7;
  switch (o.name) {
    case 'sgd':
      return (o.momentum ?? 0) > 0 ? tf.train.momentum(lr, o.momentum!, o.nesterov ?? false) : tf.train.sgd(lr);
    case 'adam':
      return tf.train.adam(lr, o.beta1 ?? 0.9, o.beta2 ?? 0.999, eps);
    case 'rmsprop':
      return tf.train.rmsprop(lr, o.rho ?? 0.9, o.momentum ?? 0, eps);
    case 'adagrad':
      return tf.train.adagrad(lr, 0.1);
    case 'adamax':
      return tf.train.adamax(lr, o.beta1 ?? 0.9, o.beta2 ?? 0.999, eps, 0);
    case 'adadelta':
      return tf.train.adadelta(lr, o.rho ?? 0.95, eps);
    default:
      throw new ModelOptionError(`createCaseOptimizer: unknown optimizer ${JSON.stringify((o as { name?: unknown }).name)}.`);
  }
}
