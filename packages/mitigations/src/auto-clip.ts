import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions } from '@gradguard/core';
import { globalNorm, scaleAll, scaleToBound } from './internal';
import { type GradientTransformation, type TransformState, keepState } from './transformation';

export interface AutoClipOptions {
  /** The percentile (0–100) of past global norms to clip to. Default 10, the paper's recommendation. */
  readonly percentile?: number;
  /**
   * How many recent global norms to keep (a ring buffer on the device). Default 1000. The paper keeps every norm; a
   * bounded window keeps memory and the per-step `topk` fixed and lets the bound follow a drifting run.
   */
  readonly history?: number;
  /**
   * An absolute ceiling on the bound: the bound is min(percentile, maxNorm). Default none (the paper's rule). A run
   * that explodes at its first step (before the history means anything) needs it: AutoClip alone never clips step 0.
   */
  readonly maxNorm?: number;
}

export interface AutoClipState extends TransformState {
  readonly transform: 'autoClip';
  /** The last `history` global norms (pre-clip), +Infinity in slots not yet written. */
  readonly norms: tf.Tensor1D;
  /** Updates seen so far (host-side: the fill level of the ring is known without reading the device). */
  readonly count: number;
  /** The bound used by the latest update. */
  readonly bound: tf.Scalar;
}

/**
 * AutoClip (Seetharaman, Wichern, Pardo & Le Roux 2020, "AutoClip: Adaptive Gradient Clipping for Source Separation
 * Networks"): record each step's global gradient norm, then clip the global norm to the `percentile`-th percentile
 * of the norms recorded so far, this step's included (linear interpolation, as `numpy.percentile`).
 *
 * All on the device: the history is a fixed-size ring buffer, and the percentile is read from `tf.topk` of the
 * negated buffer (the k smallest norms), with the rank computed on the host from the step count.
 *
 * The first step's bound is its own norm, so it is never clipped (unless `maxNorm` is set). An all-zero gradient passes unchanged. A non-finite
 * norm is recorded as +Infinity (it counts in the window but can only push the percentile up, never poison it); the
 * current gradient then passes unchanged (put `skipNonFinite()` first).
 */
export function autoClip(options: AutoClipOptions = {}): GradientTransformation<AutoClipState> {
  checkOptions('autoClip', options, ['percentile', 'history', 'maxNorm']);
  const percentile = checkNumber('autoClip', 'percentile', options.percentile ?? 10, { min: 0, max: 100 });
  const capacity = checkNumber('autoClip', 'history', options.history ?? 1000, { min: 1, integer: true });
  const maxNorm = options.maxNorm === undefined ? Number.POSITIVE_INFINITY : checkNumber('autoClip', 'maxNorm', options.maxNorm, { exclusiveMin: 0 });
  return {
    name: 'autoClip',
    init: () => keepState({
      transform: 'autoClip',
      norms: tf.fill([capacity], Number.POSITIVE_INFINITY) as tf.Tensor1D,
      count: 0,
      bound: tf.scalar(Number.POSITIVE_INFINITY),
    }),
    update(grads, state) {
      const n = Math.min(state.count + 1, capacity);
      const slot = state.count % capacity;
      const rank = (percentile / 100) * (n - 1);
      const lo = Math.floor(rank);
      const hi = Math.ceil(rank);
      const frac = rank - lo;
      const [out, norms, bound] = tf.tidy(() => {
        const norm = globalNorm(grads);
        const stored = tf.where(tf.isFinite(norm), norm, tf.scalar(Number.POSITIVE_INFINITY));
        const at = tf.equal(tf.range(0, capacity, 1, 'int32'), slot);
        const history = tf.where<tf.Tensor>(at, stored, state.norms) as tf.Tensor1D;
        // topk of −x gives the hi+1 smallest norms, largest-negated first, i.e. ascending after negation.
        const smallest = tf.neg(tf.topk(tf.neg(history), hi + 1).values);
        const vLo = tf.slice(smallest, [lo], [1]);
        const bound = frac === 0 ? vLo : tf.add(vLo, tf.mul(tf.sub(tf.slice(smallest, [hi], [1]), vLo), frac));
        const b = tf.minimum(tf.reshape(bound, []), maxNorm) as tf.Scalar;
        return [scaleAll(grads, scaleToBound(norm, b)), history, b] as const;
      });
      state.norms.dispose();
      state.bound.dispose();
      return [out, keepState({ transform: 'autoClip', norms, count: state.count + 1, bound })];
    },
    probe: (state) => ({ bound: state.bound }),
  };
}
