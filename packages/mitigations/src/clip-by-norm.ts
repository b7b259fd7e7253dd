import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from '@gradguard/core';
import { scaleToBound } from './internal';
import type { EmptyState, GradientTransformation } from './transformation';

/**
 * Scales EACH gradient tensor separately so that its own L2 norm is at most `maxNorm`: g · maxNorm / ‖g‖ when
 * ‖g‖ > maxNorm, else g (Keras `clipnorm`, `tf.clip_by_norm`). This is per tensor, not global: the update's overall
 * direction changes when tensors are clipped by different factors. For one bound on the whole update use
 * `clipByGlobalNorm`.
 *
 * An all-zero gradient and a norm exactly at the bound pass unchanged. Non-finite entries: a tensor with a NaN entry
 * stays as it is (its norm is NaN, which never compares above the bound); a tensor with an Infinity entry gets norm
 * Infinity and factor 0, so its finite entries become 0 and its infinite ones NaN. Other tensors are not affected.
 */
export function clipByNorm(maxNorm: number): GradientTransformation<EmptyState> {
  checkNumber('clipByNorm', 'maxNorm', maxNorm, { exclusiveMin: 0 });
  return {
    name: 'clipByNorm',
    init: () => ({ transform: 'clipByNorm' }),
    update(grads, state) {
      const out = tf.tidy(() => {
        const res: tf.NamedTensorMap = {};
        for (const [n, g] of Object.entries(grads)) res[n] = tf.mul(g, scaleToBound(tf.norm(g), maxNorm));
        return res;
      });
      return [out, state];
    },
  };
}
