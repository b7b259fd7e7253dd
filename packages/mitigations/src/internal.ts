import * as tf from '@tensorflow/tfjs-core';
import { GradguardError } from '@gradguard/core';
import type { TensorMap } from './transformation';

/** sqrt(Σ g²) over every entry of every gradient, as a scalar on the device (0 for an empty map). */
export function globalNorm(grads: TensorMap): tf.Scalar {
  const names = Object.keys(grads);
  if (names.length === 0) return tf.scalar(0);
  return tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))) as tf.Scalar;
}

/**
 * The factor that brings a norm down to `bound`: bound / norm where norm > bound, else exactly 1. Written with a
 * comparison rather than `bound / max(norm, bound)` so that a zero bound or a zero norm never divides 0 by 0; a NaN
 * norm compares false and leaves the gradient as it is (NaN stays NaN).
 */
export function scaleToBound(norm: tf.Tensor, bound: tf.Tensor | number): tf.Tensor {
  return tf.where(tf.greater(norm, bound), tf.div(bound, norm), tf.onesLike(norm));
}

/** Multiplies every gradient by a (broadcast) factor. */
export function scaleAll(grads: TensorMap, factor: tf.Tensor): TensorMap {
  const out: TensorMap = {};
  for (const [n, g] of Object.entries(grads)) out[n] = tf.mul(g, factor);
  return out;
}

/** The parameter behind gradient `name`, or a typed error saying how to pass the parameters. */
export function paramFor(where: string, params: TensorMap, name: string, grad: tf.Tensor): tf.Tensor {
  const p = params[name];
  if (p === undefined) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `${where}: no parameter for gradient "${name}"; it needs the weights, not only the gradients.`,
      'guard(...) passes them; in a custom loop call update(grads, state, params) with params keyed like grads (e.g. the tf.Variables by name).',
    );
  }
  if (p.shape.length !== grad.shape.length || p.shape.some((d, i) => d !== grad.shape[i])) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `${where}: parameter "${name}" has shape [${p.shape.join(', ')}] but its gradient has [${grad.shape.join(', ')}].`,
      'Pass the parameters the gradients were taken with respect to.',
    );
  }
  return p;
}
