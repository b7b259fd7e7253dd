import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions } from '@gradguard/core';
import { type GradientTransformation, type TensorMap, type TransformState, keepState } from './transformation';

export interface SpikeClipOptions {
  /** θ: an entry is a spike when g² > θ · v̂. Default 5000, the paper's. */
  readonly threshold?: number;
  /** Decay of the running second moment v (as Adam's β₂). Default 0.999. */
  readonly beta2?: number;
}

export interface SpikeClipState extends TransformState {
  readonly transform: 'spikeClip';
  /** Updates seen so far (host-side; sets the bias correction). */
  readonly count: number;
  /** Per-variable running second moment v of the (clipped) gradients, shaped like each gradient. */
  readonly moments: Readonly<Record<string, tf.Tensor>>;
}

/**
 * Spike-aware clipping after SPAM (Huang, Zhu, Jin et al., ICLR 2025, "SPAM: Spike-Aware Adam with Momentum Reset for
 * Stable LLM Training"): per coordinate, with v the running second moment v ← β₂·v + (1−β₂)·g² and v̂ = v / (1 − β₂ᵗ)
 * its bias-corrected value over the t previous steps, an entry with g² > θ·v̂ is replaced by sign(g)·sqrt(θ·v̂).
 * v is then updated with the clipped gradient. Unlike norm clipping it acts only on the spiking coordinates.
 *
 * The first step is never clipped (there is no history). An all-zero gradient passes unchanged. ±Infinity entries are
 * spikes and are clipped to ±sqrt(θ·v̂) (finite) from the second step on; NaN entries pass unchanged and are kept out
 * of v (so are infinite ones at the first step).
 */
export function spikeClip(options: SpikeClipOptions = {}): GradientTransformation<SpikeClipState> {
  checkOptions('spikeClip', options, ['threshold', 'beta2']);
  const threshold = checkNumber('spikeClip', 'threshold', options.threshold ?? 5000, { exclusiveMin: 0 });
  const beta2 = checkNumber('spikeClip', 'beta2', options.beta2 ?? 0.999, { min: 0, max: 1 });
  if (beta2 === 1) checkNumber('spikeClip', 'beta2', beta2, { min: 0, max: 0.999999 });
  return {
    name: 'spikeClip',
    init: (params) => keepState({
      transform: 'spikeClip',
      count: 0,
      moments: Object.fromEntries(Object.entries(params).map(([n, p]) => [n, tf.zeros(p.shape)])),
    }),
    update(grads, state) {
      const t = state.count;
      const correction = 1 - beta2 ** t;
      const out: TensorMap = {};
      const moments: Record<string, tf.Tensor> = {};
      for (const [n, g] of Object.entries(grads)) {
        const old = state.moments[n];
        const [o, m] = tf.tidy(() => {
          const v = old ?? tf.zerosLike(g);
          let clipped = g;
          if (t > 0) {
            const limit = tf.mul(tf.div(v, correction), threshold);
            const bound = tf.sqrt(limit);
            clipped = tf.where(tf.greater(tf.square(g), limit), tf.mul(tf.sign(g), bound), g);
          }
          const next = tf.add(tf.mul(v, beta2), tf.mul(tf.square(clipped), 1 - beta2));
          return [clipped === g ? tf.clone(g) : clipped, tf.where(tf.isFinite(clipped), next, v)];
        });
        out[n] = o;
        moments[n] = m;
      }
      for (const [n, v] of Object.entries(state.moments)) {
        if (n in moments) v.dispose();
        else moments[n] = v; // a variable without a gradient this step keeps its moment
      }
      return [out, keepState({ transform: 'spikeClip', count: t + 1, moments })];
    },
  };
}
