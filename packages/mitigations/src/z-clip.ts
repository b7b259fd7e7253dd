import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions } from '@gradguard/core';
import { globalNorm, scaleAll, scaleToBound } from './internal';
import { type GradientTransformation, type TransformState, keepState } from './transformation';

export interface ZClipOptions {
  /** z-score above which a norm counts as a spike. Default 2.5. */
  readonly zThreshold?: number;
  /** EMA decay of the norm's mean and variance. Default 0.97. */
  readonly alpha?: number;
  /** Steps whose norms seed the mean and variance before any clipping. Default 25. */
  readonly warmup?: number;
  /**
   * A global-norm bound applied during warm-up (ZClip's `max_grad_norm` fallback). Default none: warm-up steps pass
   * unclipped, as in the paper, so a run that explodes at its first steps needs it.
   */
  readonly maxNorm?: number;
}

export interface ZClipState extends TransformState {
  readonly transform: 'zClip';
  /** Updates seen so far (host-side). */
  readonly count: number;
  /** The warm-up norms (non-finite ones stored as 0 with `valid` 0). */
  readonly warmupNorms: tf.Tensor1D;
  readonly valid: tf.Tensor1D;
  /** EMA of the (clipped) global norm and of its squared deviation; meaningful once `count >= warmup`. */
  readonly mean: tf.Scalar;
  readonly variance: tf.Scalar;
  /** The factor applied by the latest update (1 when not clipped). */
  readonly scale: tf.Scalar;
}

/**
 * ZClip (Kumar, Owen, Ashkboos et al. 2025, "ZClip: Adaptive Spike Mitigation for LLM Pre-Training"), z-score mode
 * with reciprocal ("adaptive scaling") clipping. For the global norm g at each step after warm-up, with EMA mean μ and
 * variance σ²:
 *   z = (g − μ) / σ;  if z > zThreshold: g* = μ + zThreshold² · σ / z, the gradients are scaled by (g*) / g; else g* = g;
 *   then μ ← α·μ + (1−α)·g*,  σ² ← α·σ² + (1−α)·(g* − μ)²  (with the new μ): the EMA sees the clipped norm.
 * During the first `warmup` steps nothing is clipped (or, with `maxNorm`, the global norm is clipped to it); their
 * (clipped) norms seed μ and σ² (population mean and variance).
 *
 * An all-zero gradient passes unchanged. A non-finite norm is neither clipped (NaN stays NaN: put `skipNonFinite()`
 * first) nor allowed into the statistics. If σ is 0 any norm above μ is clipped to μ.
 */
export function zClip(options: ZClipOptions = {}): GradientTransformation<ZClipState> {
  checkOptions('zClip', options, ['zThreshold', 'alpha', 'warmup', 'maxNorm']);
  const zThreshold = checkNumber('zClip', 'zThreshold', options.zThreshold ?? 2.5, { exclusiveMin: 0 });
  const alpha = checkNumber('zClip', 'alpha', options.alpha ?? 0.97, { min: 0, max: 1 });
  const warmup = checkNumber('zClip', 'warmup', options.warmup ?? 25, { min: 1, integer: true });
  const maxNorm = options.maxNorm === undefined ? undefined : checkNumber('zClip', 'maxNorm', options.maxNorm, { exclusiveMin: 0 });
  return {
    name: 'zClip',
    init: () => keepState({
      transform: 'zClip',
      count: 0,
      warmupNorms: tf.zeros([warmup]) as tf.Tensor1D,
      valid: tf.zeros([warmup]) as tf.Tensor1D,
      mean: tf.scalar(0),
      variance: tf.scalar(0),
      scale: tf.scalar(1),
    }),
    update(grads, state) {
      const t = state.count;
      const next = tf.tidy(() => {
        const g = globalNorm(grads);
        const finite = tf.isFinite(g);
        if (t < warmup) {
          const scale = maxNorm === undefined ? tf.scalar(1) : scaleToBound(g, maxNorm);
          const seen = maxNorm === undefined ? g : tf.minimum(g, maxNorm);
          const at = tf.equal(tf.range(0, warmup, 1, 'int32'), t);
          const warmupNorms = tf.where<tf.Tensor>(at, tf.where(finite, seen, tf.zerosLike(g)), state.warmupNorms) as tf.Tensor1D;
          const valid = tf.where<tf.Tensor>(at, tf.cast(finite, 'float32'), state.valid) as tf.Tensor1D;
          let mean = state.mean;
          let variance = state.variance;
          if (t === warmup - 1) {
            const n = tf.maximum(tf.sum(valid), 1);
            mean = tf.div(tf.sum(tf.mul(warmupNorms, valid)), n);
            variance = tf.div(tf.sum(tf.mul(tf.square(tf.sub(warmupNorms, mean)), valid)), n);
          }
          const out = maxNorm === undefined ? { ...grads } : scaleAll(grads, scale);
          return { out, warmupNorms, valid, mean: tf.clone(mean), variance: tf.clone(variance), scale };
        }
        const sigma = tf.sqrt(state.variance);
        const z = tf.div(tf.sub(g, state.mean), sigma);
        const spike = tf.greater(z, zThreshold);
        const clippedNorm = tf.where(spike, tf.add(state.mean, tf.div(tf.mul(sigma, zThreshold * zThreshold), z)), g);
        const scale = tf.where(spike, tf.div(clippedNorm, g), tf.onesLike(g));
        const mean = tf.add(tf.mul(state.mean, alpha), tf.mul(clippedNorm, 1 - alpha));
        const variance = tf.add(tf.mul(state.variance, alpha), tf.mul(tf.square(tf.sub(clippedNorm, mean)), 1 - alpha));
        return {
          out: scaleAll(grads, scale),
          warmupNorms: tf.clone(state.warmupNorms),
          valid: tf.clone(state.valid),
          mean: tf.where(finite, mean, state.mean),
          variance: tf.where(finite, variance, state.variance),
          scale,
        };
      });
      const out = next.out;
      // During warm-up the gradients pass through: the returned map holds the caller's own tensors.
      state.warmupNorms.dispose();
      state.valid.dispose();
      state.mean.dispose();
      state.variance.dispose();
      state.scale.dispose();
      return [
        out,
        keepState({
          transform: 'zClip',
          count: t + 1,
          warmupNorms: next.warmupNorms,
          valid: next.valid,
          mean: next.mean as tf.Scalar,
          variance: next.variance as tf.Scalar,
          scale: next.scale as tf.Scalar,
        }),
      ];
    },
    probe: (state) => ({ mean: state.mean, variance: state.variance, scale: state.scale }),
  };
}
