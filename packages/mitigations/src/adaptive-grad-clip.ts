import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions } from '@gradguard/core';
import { paramFor } from './internal';
import type { EmptyState, GradientTransformation } from './transformation';

export interface AdaptiveGradClipOptions {
  /** Floor on a unit's weight norm, so that zero-initialised units (biases) can still move. Default 1e-3. */
  readonly eps?: number;
}

/** Below this a unit's gradient norm is treated as zero when dividing (Optax uses the same 1e-6). */
const MIN_GRAD_NORM = 1e-6;

/**
 * The L2 norm of each "unit" of a tensor, kept broadcastable to it:
 * - rank 0 or 1 (scalars, biases, batch-norm γ/β): the whole tensor is one unit;
 * - rank ≥ 2: one unit per entry of the LAST axis, the norm taken over all other axes. For a dense kernel
 *   `[in, out]` that is one output column (one neuron's fan-in); for a recurrent kernel `[units, units]` (SimpleRNN)
 *   or `[units, 4·units]` (LSTM) one column per gate unit; for a conv kernel `[h, w, in, out]` (tfjs is channels-
 *   last) or `[width, in, out]` (conv1d) one output channel (filter).
 * Optax reduces only axis 0 of a 3-D tensor (it assumes multi-head linear weights); tfjs has none, and its 3-D kernels
 * are conv1d filters, so here every rank ≥ 2 reduces all axes but the last.
 */
export function unitwiseNorm(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (x.rank <= 1) return tf.norm(x);
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    return tf.sqrt(tf.sum(tf.square(x), axes, true));
  });
}

/**
 * Adaptive gradient clipping, AGC (Brock, De, Smith & Simonyan 2021, "High-Performance Large-Scale Image Recognition
 * Without Normalization"; Optax `adaptive_grad_clip`): for each unit i (see `unitwiseNorm`) with weights W_i and
 * gradient G_i, when ‖G_i‖ / max(‖W_i‖, eps) > clipping, G_i is scaled to norm clipping · max(‖W_i‖, eps):
 * G_i ← G_i · clipping · max(‖W_i‖, eps) / max(‖G_i‖, 1e-6). Updates stay a bounded fraction of the weights they
 * change, unit by unit. Needs the parameters (guard passes them).
 *
 * An all-zero gradient and a ratio exactly at `clipping` pass unchanged. Non-finite entries affect only their own
 * unit: a unit with a NaN stays NaN; a unit with an Infinity gets factor 0 (finite entries 0, infinite ones NaN).
 */
export function adaptiveGradClip(clipping: number, options: AdaptiveGradClipOptions = {}): GradientTransformation<EmptyState> {
  checkNumber('adaptiveGradClip', 'clipping', clipping, { exclusiveMin: 0 });
  checkOptions('adaptiveGradClip', options, ['eps']);
  const eps = checkNumber('adaptiveGradClip', 'eps', options.eps ?? 1e-3, { exclusiveMin: 0 });
  return {
    name: 'adaptiveGradClip',
    init: () => ({ transform: 'adaptiveGradClip' }),
    update(grads, state, params) {
      const out = tf.tidy(() => {
        const res: tf.NamedTensorMap = {};
        for (const [n, g] of Object.entries(grads)) {
          const w = paramFor('adaptiveGradClip', params, n, g);
          const maxNorm = tf.mul(tf.maximum(unitwiseNorm(w), eps), clipping);
          const gNorm = unitwiseNorm(g);
          const clipped = tf.mul(g, tf.div(maxNorm, tf.maximum(gNorm, MIN_GRAD_NORM)));
          res[n] = tf.where(tf.greater(gNorm, maxNorm), clipped, g);
        }
        return res;
      });
      return [out, state];
    },
  };
}
