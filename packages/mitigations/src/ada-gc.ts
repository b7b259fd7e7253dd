import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions, hostViewOf } from '@gradguard/core';
import { globalNorm, scaleToBound } from './internal';
import { type GradientTransformation, type TransformState, hostFacts, keepState } from './transformation';

export interface AdaGcOptions {
  /** β: decay of each tensor's EMA of its clipped gradient norm. Default 0.98, the paper's. */
  readonly beta?: number;
  /** λ_rel: after warm-up a tensor's gradient norm is bounded by λ_rel · γ (its EMA). Default 1.05. */
  readonly lambdaRel?: number;
  /** λ_abs: during warm-up the global gradient norm is clipped to this. Default 1. */
  readonly lambdaAbs?: number;
  /** Warm-up updates (global clipping, γ seeded with the smallest clipped norm). Default 100. */
  readonly warmup?: number;
}

export interface AdaGcState extends TransformState {
  readonly transform: 'adaGC';
  /** Updates seen so far. */
  readonly count: number;
  /**
   * γ per variable: the EMA of its clipped gradient norm; NaN until the tensor had a non-zero finite gradient. A
   * number when decided on the host, a float32 scalar on the device.
   */
  readonly gamma: Readonly<Record<string, number | tf.Scalar>>;
}

/**
 * AdaGC, per-tensor adaptive gradient clipping (Wang, Li, Chen et al. 2025, "AdaGC: Improving Training Stability for
 * Large Language Model Pretraining", arXiv 2502.11034, Algorithm 1). With g_i a tensor's gradient and γ_i its
 * threshold, at update t (0-based):
 * - warm-up, t < warmup: global clipping, h = min(λ_abs / ‖g‖, 1) with ‖g‖ the global norm, ĝ_i = h · g_i, and
 *   γ_i = min(γ_i, ‖ĝ_i‖) (the first value seeds it);
 * - after: h_i = min(λ_rel · γ_i / ‖g_i‖, 1), ĝ_i = h_i · g_i, and γ_i ← β · γ_i + (1 − β) · ‖ĝ_i‖.
 * A tensor whose norm jumps is brought back to 1.05× its own recent norm, and no other tensor is touched: one huge
 * tensor cannot starve the rest, as it does under global clipping. γ grows by at most β + (1 − β)·λ_rel (1.001×) per
 * step, so a global clip during warm-up (a spike in one tensor scales every tensor down, and γ keeps the minimum)
 * leaves the other tensors' γ low for thousands of steps: use a warm-up whose gradients are healthy, or a short one.
 *
 * Three edge rules the paper leaves open: an all-zero gradient (a variable unused at this step) passes and leaves γ
 * as it was, as an absent gradient does in the paper's PyTorch setting; a tensor with no γ yet after warm-up passes
 * unclipped and seeds γ with its norm; a non-finite norm (global during warm-up, the tensor's after) leaves γ as it
 * was — NaN stays NaN, an Infinity is scaled by 0 (put `skipNonFinite()` first).
 *
 * Inside `guard` on cpu, wasm and tfjs-node the norms come from the step's statistics pass and the factors are
 * computed on the host in float64 (a tensor under its bound costs nothing); elsewhere everything runs on the device.
 */
export function adaGC(options: AdaGcOptions = {}): GradientTransformation<AdaGcState> {
  checkOptions('adaGC', options, ['beta', 'lambdaRel', 'lambdaAbs', 'warmup']);
  const beta = checkNumber('adaGC', 'beta', options.beta ?? 0.98, { min: 0, max: 1 });
  const lambdaRel = checkNumber('adaGC', 'lambdaRel', options.lambdaRel ?? 1.05, { exclusiveMin: 0 });
  const lambdaAbs = checkNumber('adaGC', 'lambdaAbs', options.lambdaAbs ?? 1, { exclusiveMin: 0 });
  const warmup = checkNumber('adaGC', 'warmup', options.warmup ?? 100, { min: 0, integer: true });
  return {
    name: 'adaGC',
    init: () => ({ transform: 'adaGC', count: 0, gamma: {} }),
    update(grads, state, _params, context) {
      const t = state.count;
      const names = Object.keys(grads);
      const known = hostFacts(context, grads);
      const gamma: Record<string, number | tf.Scalar> = { ...state.gamma };
      if (known !== undefined) {
        const out: tf.NamedTensorMap = {};
        const global = Math.sqrt(known.sq);
        const h = global > lambdaAbs ? lambdaAbs / global : 1; // NaN compares false: unchanged, as on the device
        for (const n of names) {
          const g = grads[n]!;
          const norm = Math.sqrt(context!.facts(g)!.sq);
          const old = numberOf(state.gamma[n]);
          let factor: number;
          let next = old;
          if (t < warmup) {
            factor = h;
            const clipped = h * norm;
            if (Number.isFinite(global) && clipped > 0) next = Number.isNaN(old) ? clipped : Math.min(old, clipped);
          } else {
            const bound = lambdaRel * old;
            factor = norm > bound ? bound / norm : 1;
            const clipped = factor * norm;
            if (Number.isFinite(clipped) && clipped > 0) next = Number.isNaN(old) ? clipped : beta * old + (1 - beta) * clipped;
          }
          if (factor === 1) out[n] = g;
          else {
            const f = tf.scalar(factor);
            out[n] = tf.mul(g, f);
            f.dispose();
            context!.derive(out[n]!, g, factor);
          }
          gamma[n] = next;
        }
        disposeScalars(state.gamma, gamma);
        return [out, { transform: 'adaGC', count: t + 1, gamma }];
      }
      const res = tf.tidy(() => {
        const out: tf.NamedTensorMap = {};
        const next: Record<string, tf.Scalar> = {};
        const global = globalNorm(grads);
        const h = scaleToBound(global, lambdaAbs);
        for (const n of names) {
          const g = grads[n]!;
          const norm = tf.norm(g);
          const old = scalarOf(state.gamma[n]);
          const unset = tf.isNaN(old);
          let factor: tf.Tensor;
          let updated: tf.Tensor;
          let valid: tf.Tensor;
          if (t < warmup) {
            factor = h;
            const clipped = tf.mul(h, norm);
            valid = tf.logicalAnd(tf.isFinite(global), tf.greater(clipped, 0));
            updated = tf.where(unset, clipped, tf.minimum(old, clipped));
          } else {
            factor = scaleToBound(norm, tf.mul(old, lambdaRel));
            const clipped = tf.mul(factor, norm);
            valid = tf.logicalAnd(tf.isFinite(clipped), tf.greater(clipped, 0));
            updated = tf.where(unset, clipped, tf.add(tf.mul(old, beta), tf.mul(clipped, 1 - beta)));
          }
          out[n] = tf.mul(g, factor);
          next[n] = tf.where(valid, updated, old) as tf.Scalar;
        }
        return { out, next };
      });
      Object.assign(gamma, res.next);
      disposeScalars(state.gamma, gamma);
      return [res.out, keepState({ transform: 'adaGC', count: t + 1, gamma })];
    },
  };
}

/** A γ as a number (NaN when unset). Device scalars reach the host path only after a backend switch: a free view. */
function numberOf(x: number | tf.Scalar | undefined): number {
  if (x === undefined) return Number.NaN;
  return typeof x === 'number' ? x : (hostViewOf()?.(x)?.[0] ?? Number.NaN);
}

function scalarOf(x: number | tf.Scalar | undefined): tf.Tensor {
  return typeof x === 'object' ? x : tf.scalar(x ?? Number.NaN);
}

/** Disposes the old state's device scalars that the new state does not carry. */
function disposeScalars(old: Readonly<Record<string, number | tf.Scalar>>, next: Readonly<Record<string, number | tf.Scalar>>): void {
  for (const [n, v] of Object.entries(old)) if (typeof v === 'object' && next[n] !== v) v.dispose();
}
