import * as tfl from '@tensorflow/tfjs-layers';
import { ModelOptionError, checkInt, checkPositive } from './errors';
import { type InitializerSpec, type RegularizerSpec, createInitializer, createRegularizer } from './initializers';
import { ACTIVATIONS, type Activation, RECURRENT_CELLS, type RecurrentCell } from './names';

export { ACTIVATIONS, RECURRENT_CELLS, type Activation, type RecurrentCell };

export type OutputActivation = 'linear' | 'sigmoid' | 'softmax';

export interface RecurrentOptions {
  /** Time steps per sequence. */
  readonly sequenceLength: number;
  /** Features per time step. */
  readonly features: number;
  /** Default 'lstm'. 'simple-rnn' is the Elman RNN whose gradients explode or vanish like radius^T. */
  readonly cell?: RecurrentCell;
  /** Hidden units per recurrent layer. Default 16. */
  readonly units?: number;
  /** Stacked recurrent layers. Default 1. */
  readonly layers?: number;
  /** Activation of the recurrence (the candidate activation for LSTM/GRU). Default 'tanh'. */
  readonly activation?: Activation;
  /** Input kernels. Default glorot-uniform. */
  readonly kernelInitializer?: InitializerSpec;
  /** Recurrent kernels. Default orthogonal with gain 1. Give this or `recurrentRadius`, not both. */
  readonly recurrentInitializer?: InitializerSpec;
  /**
   * Spectral radius of each recurrent kernel: shorthand for `{ kind: 'orthogonal', gain: radius }` (an orthogonal
   * matrix times g has every eigenvalue of modulus g). Pascanu et al. 2013: radius > 1 is necessary for exploding
   * gradients in a linear RNN, radius < 1 sufficient for vanishing ones.
   */
  readonly recurrentRadius?: number;
  /** Batch normalization after every recurrent layer (over the feature axis). Default false. */
  readonly batchNorm?: boolean;
  /**
   * L1/L2 penalty on the input and recurrent kernels and the head kernel. Note: tfjs-layers 4.22 does not collect the
   * penalties of an RNN layer's cell, so in training only the head kernel's penalty reaches the loss (measured).
   */
  readonly regularizer?: RegularizerSpec;
  /** Units of the dense head. Default 1. */
  readonly outputs?: number;
  /** Default 'linear'. */
  readonly outputActivation?: OutputActivation;
  /** Apply the head at every time step (sequence-to-sequence tasks such as copy). Default false: last step only. */
  readonly returnSequences?: boolean;
  /** Seeds every initializer: the same options give identical weights. Default 1. */
  readonly seed?: number;
}

/**
 * A stack of SimpleRNN, LSTM or GRU layers and a dense head, every initializer seeded. The knobs are the ones that
 * cause and cure exploding/vanishing gradients: recurrent spectral radius, initializers, cell type (gating, Hochreiter
 * & Schmidhuber 1997), batch normalization, L1/L2 penalties, depth.
 */
export function buildRecurrent(options: RecurrentOptions): tfl.Sequential {
  const where = 'buildRecurrent';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength, 1);
  const features = checkInt(where, 'features', options.features, 1);
  const cell = options.cell ?? 'lstm';
  if (!RECURRENT_CELLS.includes(cell)) {
    throw new ModelOptionError(`${where}: cell must be one of ${RECURRENT_CELLS.join(', ')}, got ${JSON.stringify(cell)}.`);
  }
  const units = checkInt(where, 'units', options.units ?? 16, 1);
  const depth = checkInt(where, 'layers', options.layers ?? 1, 1);
  const outputs = checkInt(where, 'outputs', options.outputs ?? 1, 1);
  const seed = checkInt(where, 'seed', options.seed ?? 1, 0);
  const activation = checkActivation(where, options.activation ?? 'tanh');
  if (options.recurrentRadius !== undefined && options.recurrentInitializer !== undefined) {
    throw new ModelOptionError(`${where}: give recurrentRadius or recurrentInitializer, not both (the radius is an orthogonal gain).`);
  }
  const recurrentSpec: InitializerSpec =
    options.recurrentInitializer ?? { kind: 'orthogonal', gain: checkPositive(where, 'recurrentRadius', options.recurrentRadius ?? 1) };
  const kernelSpec: InitializerSpec = options.kernelInitializer ?? { kind: 'glorot-uniform' };
  const returnSequences = options.returnSequences ?? false;

  const model = tfl.sequential({ name: `${cell.replace('-', '_')}_model` });
  for (let i = 0; i < depth; i++) {
    const config = {
      name: `recurrent_${i + 1}`,
      units,
      activation,
      returnSequences: returnSequences || i < depth - 1,
      kernelInitializer: createInitializer(kernelSpec, seedFor(seed, i, 0)),
      recurrentInitializer: createInitializer(recurrentSpec, seedFor(seed, i, 1)),
      biasInitializer: 'zeros' as const,
      kernelRegularizer: createRegularizer(options.regularizer),
      recurrentRegularizer: createRegularizer(options.regularizer),
      ...(i === 0 ? { inputShape: [T, features] } : {}),
    };
    model.add(cell === 'lstm' ? tfl.layers.lstm(config) : cell === 'gru' ? tfl.layers.gru(config) : tfl.layers.simpleRNN(config));
    if (options.batchNorm) model.add(tfl.layers.batchNormalization({ name: `batch_norm_${i + 1}`, momentum: BATCH_NORM_MOMENTUM }));
  }
  model.add(
    tfl.layers.dense({
      name: 'head',
      units: outputs,
      activation: options.outputActivation ?? 'linear',
      kernelInitializer: createInitializer({ kind: 'glorot-uniform' }, seedFor(seed, depth, 0)),
      kernelRegularizer: createRegularizer(options.regularizer),
    }),
  );
  return model;
}

/** Distinct, stable seeds per layer and role, so adding a layer never changes the weights of the ones before it. */
export function seedFor(seed: number, layer: number, role: number): number {
  return seed * 1009 + layer * 17 + role;
}

export function checkActivation(where: string, value: unknown): Activation {
  if (!ACTIVATIONS.includes(value as Activation)) {
    throw new ModelOptionError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(value)}.`);
  }
  return value as Activation;
}

/**
 * Momentum of the moving mean/variance batch normalization uses at inference. Keras' 0.99 averages over ~100 steps,
 * too long for runs of a few hundred steps (the inference statistics would still be mostly their initial values);
 * 0.9 averages over ~10.
 */
export const BATCH_NORM_MOMENTUM = 0.9;
