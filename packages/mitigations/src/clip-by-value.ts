import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from '@gradguard/core';
import type { EmptyState, GradientTransformation } from './transformation';

/**
 * Clips every gradient entry to [-limit, limit] independently (Keras `clipvalue`, PyTorch `clip_grad_value_`,
 * Optax `clip`). Unlike norm clipping it changes the gradient's direction.
 *
 * Non-finite entries: ±Infinity becomes ±limit; NaN stays NaN (put `skipNonFinite()` before it in a chain).
 */
export function clipByValue(limit: number): GradientTransformation<EmptyState> {
  checkNumber('clipByValue', 'limit', limit, { exclusiveMin: 0 });
  return {
    name: 'clipByValue',
    init: () => ({ transform: 'clipByValue' }),
    update(grads, state) {
      const out: tf.NamedTensorMap = {};
      for (const [n, g] of Object.entries(grads)) out[n] = tf.clipByValue(g, -limit, limit);
      return [out, state];
    },
  };
}
