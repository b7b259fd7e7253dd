import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from '@gradguard/core';
import { type EmptyState, type GradientTransformation, hostFacts } from './transformation';

/**
 * Scales all gradients together by `maxNorm / max(globalNorm, maxNorm)`, where globalNorm is the L2 norm of every
 * gradient entry taken as one vector (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
 * networks"; Keras `global_clipnorm`, PyTorch `clip_grad_norm_`). Directions are kept; only the length is bounded.
 *
 * An all-zero gradient passes unchanged. NaN/Infinity entries make the factor NaN or 0 and so poison every gradient:
 * put `skipNonFinite()` before it in a chain.
 *
 * Inside `guard` on cpu, wasm and tfjs-node the norm comes from the step's statistics pass (float64, on the host): a
 * step under the bound costs nothing at all (the gradients pass through), one over it one multiply per variable.
 * Elsewhere it is computed on the device (float32: a global norm above ~1.8e19 overflows to Infinity and zeroes the
 * update).
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  checkNumber('clipByGlobalNorm', 'maxNorm', maxNorm, { exclusiveMin: 0 });
  return {
    name: 'clipByGlobalNorm',
    init: () => ({ transform: 'clipByGlobalNorm' }),
    update(grads, state, _params, context) {
      const names = Object.keys(grads);
      if (names.length === 0) return [grads, state];
      const known = hostFacts(context, grads);
      if (known !== undefined) {
        const factor = maxNorm / Math.max(Math.sqrt(known.sq), maxNorm); // NaN stays NaN, as on the device
        if (factor === 1) return [grads, state];
        const out: tf.NamedTensorMap = {};
        const f = tf.scalar(factor);
        for (const n of names) {
          out[n] = tf.mul(grads[n]!, f);
          context!.derive(out[n]!, grads[n]!, factor);
        }
        f.dispose();
        return [out, state];
      }
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
