import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions, hostViewOf } from '@gradguard/core';
import { globalNorm } from './internal';
import { type GradientTransformation, type StepContext, type TransformState, hostFacts, keepState } from './transformation';

export interface SkipOnSpikeOptions {
  /** Steps whose loss and global norm form the rolling window. Default 128 (OLMo-core's `rolling_interval_length`). */
  readonly window?: number;
  /** A value more than `sigma` sample standard deviations above the window's mean is a spike. Default 6. */
  readonly sigma?: number;
  /**
   * The rule acts once this many finite values, the step's own included, have been seen in a series. Default
   * max(20, ⌊window / 2⌋), OLMo-core's: 64 with the default window (at most window + 1, so a small window acts).
   */
  readonly minSamples?: number;
}

/** A series' window: the latest `window` steps' values in a ring (slot `count % window`), NaN for an empty slot. */
type Ring = Float64Array | tf.Tensor1D;

export interface SkipOnSpikeState extends TransformState {
  readonly transform: 'skipOnSpike';
  /** Steps seen (each one fills a ring slot, skipped ones included). */
  readonly count: number;
  /** The window of losses (host: float64 values; device: a float32 tensor). */
  readonly losses: Ring;
  /** The window of pre-transform global gradient norms. */
  readonly norms: Ring;
  /** Whether the latest update may be applied: decided on the host (boolean) or on the device (a boolean scalar). */
  readonly ok: boolean | tf.Scalar;
  /** Steps skipped so far (a number on the host, a float32 scalar on the device). */
  readonly skipped: number | tf.Scalar;
}

/**
 * Skips a step whose loss or global gradient norm spikes above its recent history, after OLMo-core's
 * `SkipStepOptimizer` (AI2, 2024–25; the same rule as Levanter's `SkipStepConfig`): with μ and s the mean and the
 * sample standard deviation (n − 1) of the previous `window` steps' values, a step is skipped when
 * `loss − μ_loss > sigma · s_loss` or `norm − μ_norm > sigma · s_norm`. One-sided: a drop is never a spike. Each series
 * is judged once `minSamples` finite values, this step's included, have been seen; before that it never skips.
 * Every step's values enter the window whether it was skipped or not (as in OLMo-core: a lasting change of level is
 * learned within a window and stops being skipped).
 *
 * Two choices differ from OLMo-core, where a NaN would enter the window and make every later step a skip until it
 * left: a non-finite loss or norm is always a skip, and it is kept out of the window. A step without a loss (guard's
 * `applyGradients`, a custom loop without context) is judged on its norm alone.
 *
 * The skip is exact, for the weights and for the optimizer's state (Adam's moments, momentum): inside `guard` on cpu,
 * wasm and tfjs-node the decision is taken on the host from the step's statistics pass and the loss (both already
 * computed, in host memory) and a skipped step is not applied at all; on WebGL/WebGPU it is taken on the device and
 * `guard` gates the update there (no readback). Put it first in a chain, before any clip: the norm it judges is the
 * pre-clip one, as OLMo-core's is (the norm `clip_grad_norm_` returns). Later stages and an optimizer used without
 * `guard` receive all-zero gradients on a skipped step.
 */
export function skipOnSpike(options: SkipOnSpikeOptions = {}): GradientTransformation<SkipOnSpikeState> {
  checkOptions('skipOnSpike', options, ['window', 'sigma', 'minSamples']);
  const window = checkNumber('skipOnSpike', 'window', options.window ?? 128, { min: 2, integer: true });
  const sigma = checkNumber('skipOnSpike', 'sigma', options.sigma ?? 6, { exclusiveMin: 0 });
  const minSamples = checkNumber('skipOnSpike', 'minSamples', options.minSamples ?? Math.min(Math.max(20, Math.floor(window / 2)), window + 1), {
    min: 3,
    max: window + 1,
    integer: true,
  });
  const empty = (): Float64Array => new Float64Array(window).fill(Number.NaN);
  return {
    name: 'skipOnSpike',
    init: () => ({ transform: 'skipOnSpike', count: 0, losses: empty(), norms: empty(), ok: true, skipped: 0 }),
    update(grads, state, _params, context) {
      const known = hostFacts(context, grads);
      const loss = context?.loss;
      const lossValue = loss === undefined ? undefined : known && hostViewOf()?.(loss)?.[0];
      if (known !== undefined && (loss === undefined || lossValue !== undefined)) {
        return hostStep(grads, state, Math.sqrt(known.sq), lossValue, context!);
      }
      return deviceStep(grads, state, loss);
    },
    shouldApply: (state) => state.ok,
    probe: (state) => ({ skipped: state.skipped }),
  };

  function hostStep(
    grads: tf.NamedTensorMap,
    state: SkipOnSpikeState,
    norm: number,
    loss: number | undefined,
    context: StepContext,
  ): readonly [tf.NamedTensorMap, SkipOnSpikeState] {
    const losses = ringOnHost(state.losses);
    const norms = ringOnHost(state.norms);
    const lossBad = loss !== undefined && (!Number.isFinite(loss) || spikes(losses, loss));
    const ok = Number.isFinite(norm) && !spikes(norms, norm) && !lossBad;
    const slot = state.count % window;
    losses[slot] = loss !== undefined && Number.isFinite(loss) ? loss : Number.NaN;
    norms[slot] = Number.isFinite(norm) ? norm : Number.NaN;
    const skipped = countOnHost(state.skipped) + (ok ? 0 : 1);
    disposeDevice(state);
    let out = grads;
    if (!ok) {
      out = {};
      for (const [n, g] of Object.entries(grads)) {
        out[n] = tf.zerosLike(g);
        context.derive(out[n]!, g, 0);
      }
    }
    return [out, { transform: 'skipOnSpike', count: state.count + 1, losses, norms, ok, skipped }];
  }

  /** Whether finite `x` is a spike against the ring's finite values (never while fewer than minSamples are known). */
  function spikes(ring: Float64Array, x: number): boolean {
    let n = 0;
    let sum = 0;
    for (const v of ring) {
      if (!Number.isNaN(v)) {
        n++;
        sum += v;
      }
    }
    if (n + 1 < minSamples) return false;
    const mean = sum / n;
    let ss = 0;
    for (const v of ring) if (!Number.isNaN(v)) ss += (v - mean) * (v - mean);
    return x - mean > sigma * Math.sqrt(ss / (n - 1));
  }

  function deviceStep(
    grads: tf.NamedTensorMap,
    state: SkipOnSpikeState,
    loss: tf.Scalar | undefined,
  ): readonly [tf.NamedTensorMap, SkipOnSpikeState] {
    const slot = state.count % window;
    const next = tf.tidy(() => {
      const losses = ringOnDevice(state.losses);
      const norms = ringOnDevice(state.norms);
      const norm = globalNorm(grads);
      const normOk = tf.logicalAnd(tf.isFinite(norm), tf.logicalNot(spikesOnDevice(norms, norm)));
      let ok = normOk;
      const at = tf.equal(tf.range(0, window, 1, 'int32'), slot);
      const nan = tf.scalar(Number.NaN);
      let nextLosses = tf.where<tf.Tensor>(at, nan, losses);
      if (loss !== undefined) {
        const l = tf.cast(loss, 'float32');
        ok = tf.logicalAnd(ok, tf.logicalAnd(tf.isFinite(l), tf.logicalNot(spikesOnDevice(losses, l))));
        nextLosses = tf.where<tf.Tensor>(at, tf.where(tf.isFinite(l), l, nan), losses);
      }
      const nextNorms = tf.where<tf.Tensor>(at, tf.where(tf.isFinite(norm), norm, nan), norms);
      const zero = tf.scalar(0);
      const out: tf.NamedTensorMap = {};
      for (const [n, g] of Object.entries(grads)) out[n] = tf.where(ok, g, zero);
      const skipped = tf.add(state.skipped, tf.sub(1, tf.cast(ok, 'float32')));
      return { out, ok, losses: nextLosses, norms: nextNorms, skipped };
    });
    disposeDevice(state);
    return [
      next.out,
      keepState({
        transform: 'skipOnSpike',
        count: state.count + 1,
        losses: next.losses as tf.Tensor1D,
        norms: next.norms as tf.Tensor1D,
        ok: next.ok as tf.Scalar,
        skipped: next.skipped as tf.Scalar,
      }),
    ];
  }

  /** The device form of `spikes`: a boolean scalar, false while the ring holds fewer than minSamples − 1 values. */
  function spikesOnDevice(ring: tf.Tensor1D, x: tf.Tensor): tf.Tensor {
    const known = tf.isFinite(ring);
    const m = tf.cast(known, 'float32');
    const n = tf.sum(m);
    const values = tf.where(known, ring, tf.zerosLike(ring));
    const mean = tf.div(tf.sum(values), tf.maximum(n, 1));
    const ss = tf.sum(tf.mul(tf.square(tf.sub(values, mean)), m));
    const std = tf.sqrt(tf.div(ss, tf.maximum(tf.sub(n, 1), 1)));
    return tf.logicalAnd(tf.greaterEqual(n, minSamples - 1), tf.greater(tf.sub(x, mean), tf.mul(std, sigma)));
  }
}

// A state decided on the device reaches the host path only in a loop that switched backends; there the host view of
// the tensor is free (cpu, wasm, tfjs-node keep it in host memory).
function ringOnHost(r: Ring): Float64Array {
  if (r instanceof Float64Array) return r.slice();
  return Float64Array.from(hostViewOf()?.(r) ?? new Float32Array(r.size).fill(Number.NaN));
}

function ringOnDevice(r: Ring): tf.Tensor1D {
  return r instanceof Float64Array ? tf.tensor1d(Float32Array.from(r)) : r;
}

function countOnHost(x: number | tf.Scalar): number {
  return typeof x === 'number' ? x : (hostViewOf()?.(x)?.[0] ?? 0);
}

function disposeDevice(state: SkipOnSpikeState): void {
  for (const x of [state.losses, state.norms, state.ok, state.skipped]) if (x instanceof tf.Tensor) x.dispose();
}
