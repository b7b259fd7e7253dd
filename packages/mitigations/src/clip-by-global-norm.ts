import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from '@gradguard/core';
import type { EmptyState, GradientTransformation } from './transformation';

/**
 * Scales all gradients together by `maxNorm / max(globalNorm, maxNorm)`, where globalNorm is the L2 norm of every
 * gradient entry taken as one vector (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
 * networks"; Keras `global_clipnorm`, PyTorch `clip_grad_norm_`). Directions are kept; only the length is bounded.
 *
 * An all-zero gradient passes unchanged. NaN/Infinity entries make the factor NaN or 0 and so poison every gradient:
 * put `skipNonFinite()` before it in a chain. A global norm above ~1.8e19 overflows float32 to Infinity and zeroes
 * the update.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  checkNumber('clipByGlobalNorm', 'maxNorm', maxNorm, { exclusiveMin: 0 });
  return {
    name: 'clipByGlobalNorm',
    init: () => ({ transform: 'clipByGlobalNorm' }),
    update(grads, state) {
      const names = Object.keys(grads);
      if (names.length === 0) return [grads, state];
      const out = tf.tidy(() => {
        const sq = tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))));
        const factor = tf.div(maxNorm, tf.maximum(tf.sqrt(sq), maxNorm));
        const res: tf.NamedTensorMap = {};
        for (const n of names) res[n] = tf.mul(grads[n]!, factor);
        return res;
      });
      return [out, state];
    },
  };
}
