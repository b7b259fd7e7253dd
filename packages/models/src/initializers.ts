import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelOptionError, checkPositive } from './errors';

/**
 * An initializer as plain data, so scenarios can name it and a repair can swap it.
 * - `glorot-*` (Glorot & Bengio 2010): variance 2 / (fanIn + fanOut), keeps tanh/sigmoid nets balanced.
 * - `he-*` (He et al. 2015): variance 2 / fanIn, keeps ReLU nets balanced.
 * - `lecun-normal`: variance 1 / fanIn (SELU, LeCun 1998).
 * - `orthogonal` (Saxe et al. 2014): every singular value equals `gain`, so a square recurrent kernel has spectral
 *   radius exactly `gain`; gradients through T steps scale roughly like gain^T.
 * - `scaled-normal`: N(0, stddev²), the naive init whose stddev decides whether a deep net explodes or vanishes.
 * `scale` multiplies the standard deviation of the variance-scaling families (so the variance by scale²).
 */
export type InitializerSpec =
  | {
      readonly kind: 'glorot-uniform' | 'glorot-normal' | 'he-uniform' | 'he-normal' | 'lecun-normal';
      readonly scale?: number;
    }
  | { readonly kind: 'orthogonal'; readonly gain?: number }
  | { readonly kind: 'scaled-normal'; readonly stddev: number }
  | { readonly kind: 'zeros' };

export const INITIALIZER_KINDS = [
  'glorot-uniform',
  'glorot-normal',
  'he-uniform',
  'he-normal',
  'lecun-normal',
  'orthogonal',
  'scaled-normal',
  'zeros',
] as const;

const VARIANCE_SCALING = {
  'glorot-uniform': { scale: 1, mode: 'fanAvg', distribution: 'uniform' },
  'glorot-normal': { scale: 1, mode: 'fanAvg', distribution: 'normal' },
  'he-uniform': { scale: 2, mode: 'fanIn', distribution: 'uniform' },
  'he-normal': { scale: 2, mode: 'fanIn', distribution: 'normal' },
  'lecun-normal': { scale: 1, mode: 'fanIn', distribution: 'normal' },
} as const;

/** Standard deviation of a unit normal truncated to [-2, 2] (the constant Keras' VarianceScaling divides by). */
const TRUNCATED_NORMAL_STD = 0.87962566103423978;

/** Makes a seeded tfjs initializer from a spec. The same spec and seed always give the same weights. */
export function createInitializer(spec: InitializerSpec, seed: number): ReturnType<typeof tfl.initializers.zeros> {
  const where = 'createInitializer';
  switch (spec.kind) {
    case 'glorot-uniform':
    case 'glorot-normal':
    case 'he-uniform':
    case 'he-normal':
    case 'lecun-normal': {
      const base = VARIANCE_SCALING[spec.kind];
      const s = checkPositive(where, `${spec.kind}.scale`, spec.scale ?? 1);
      // tfjs draws 'normal' from a normal truncated at 2σ without Keras' correction, which leaves the std at 0.88 of
      // the target; divide it back out so he-normal really has variance 2 / fanIn.
      const correction = base.distribution === 'normal' ? 1 / TRUNCATED_NORMAL_STD ** 2 : 1;
      return tfl.initializers.varianceScaling({ scale: base.scale * s * s * correction, mode: base.mode, distribution: base.distribution, seed });
    }
    case 'orthogonal':
      return orthogonal(checkPositive(where, 'orthogonal.gain', spec.gain ?? 1), seed);
    case 'scaled-normal':
      return tfl.initializers.randomNormal({ mean: 0, stddev: checkPositive(where, 'scaled-normal.stddev', spec.stddev), seed });
    case 'zeros':
      return tfl.initializers.zeros();
    default:
      throw new ModelOptionError(
        `${where}: unknown initializer kind ${JSON.stringify((spec as { kind?: unknown }).kind)}; use one of ${INITIALIZER_KINDS.join(', ')}.`,
      );
  }
}

type Initializer = ReturnType<typeof tfl.initializers.orthogonal>;

/**
 * tfjs-layers' orthogonal initializer (the default recurrent initializer of SimpleRNN, LSTM and GRU) calls chained
 * tensor methods (`rMat.flatten()`), which exist only once `@tensorflow/tfjs` (the union package) has been imported;
 * with just the tfjs-core and tfjs-layers this package asks for, building any recurrent layer throws
 * "rMat.flatten is not a function". This is the same computation with functional ops — the same seeded draw, QR,
 * sign fix and gain, so the weights are bit-identical to tfjs-layers' — on an ordinary Orthogonal instance (its
 * class name and config still serialize as tfjs-layers' own).
 */
export function orthogonal(gain: number, seed: number): Initializer {
  const init = tfl.initializers.orthogonal({ gain, seed });
  init.apply = (layerShape, dtype) =>
    tf.tidy(() => {
      // A weight's shape is fully known when it is initialized; tfjs-layers' Shape type merely allows null.
      const shape = layerShape.map((d) => d ?? 1);
      if (shape.length < 2) throw new ModelOptionError(`orthogonal: the shape must be at least 2-D, got [${shape.join(', ')}].`);
      const rows = tf.util.sizeFromShape(shape.slice(0, -1));
      const cols = shape[shape.length - 1]!;
      const k = Math.min(rows, cols);
      const [q, r] = tf.linalg.qr(tf.randomNormal([Math.max(rows, cols), k], 0, 1, dtype as 'float32' | undefined, seed), false);
      // Q·sign(diag R) makes the factorization unique, so Q is uniformly distributed (Mezzadri 2007).
      const diag = tf.stridedSlice(tf.reshape(r!, [-1]), [0], [k * k], [k + 1]);
      let m = tf.mul(q!, tf.sign(diag));
      if (rows < cols) m = tf.transpose(m);
      return tf.mul(tf.scalar(gain), tf.reshape(m, shape));
    });
  return init;
}

/** Kernel weight penalties added to the loss: l1·Σ|w| + l2·Σw² (model.fit and trainOnBatch include them). */
export interface RegularizerSpec {
  readonly l1?: number;
  readonly l2?: number;
}

/** A tfjs regularizer from a spec, or undefined when both coefficients are absent or zero. */
export function createRegularizer(spec: RegularizerSpec | undefined): ReturnType<typeof tfl.regularizers.l1l2> | undefined {
  if (spec === undefined) return undefined;
  const l1 = checkNonNegative('createRegularizer', 'l1', spec.l1 ?? 0);
  const l2 = checkNonNegative('createRegularizer', 'l2', spec.l2 ?? 0);
  if (l1 === 0 && l2 === 0) return undefined;
  return tfl.regularizers.l1l2({ l1, l2 });
}

function checkNonNegative(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ModelOptionError(`${where}: ${name} must be a finite number >= 0, got ${JSON.stringify(value)}.`);
  }
  return value;
}
