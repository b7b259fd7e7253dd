import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, checkNumber, checkOptions, hostViewOf } from '@gradguard/core';
import { type GradientTransformation, type TransformState, hostFacts, keepState } from './transformation';

export interface SkipNonFiniteOptions {
  /**
   * Consecutive skipped steps after which the run is declared unrecoverable (a `GradguardError` with code
   * `NON_FINITE_LIMIT`). Default 10.
   */
  readonly maxConsecutive?: number;
}

export interface SkipNonFiniteState extends TransformState {
  readonly transform: 'skipNonFinite';
  /**
   * Every gradient entry of the latest update was finite (the update may be applied): a boolean when decided on the
   * host from guard's statistics pass, a boolean scalar when decided on the device.
   */
  readonly ok: tf.Scalar | boolean;
  /** Skips in a row, ending with the latest update (a number on the host, a float32 scalar on the device). */
  readonly consecutive: tf.Scalar | number;
  /** Skips so far (a number on the host, a float32 scalar on the device). */
  readonly total: tf.Scalar | number;
}

/** A count held as a number or a device scalar, as a number. Called on host backends only, where a view is free. */
function countOf(x: tf.Scalar | number): number {
  return typeof x === 'number' ? x : (hostViewOf()?.(x)?.[0] ?? 0);
}

/** Thrown (or handed to the fit callback) when `skipNonFinite` skipped more steps in a row than allowed. */
export class NonFiniteLimitError extends GradguardError {
  readonly step: number;
  readonly consecutive: number;

  constructor(step: number, consecutive: number, maxConsecutive: number) {
    super(
      'NON_FINITE_LIMIT',
      `skipNonFinite: ${consecutive} steps in a row (up to step ${step}) had NaN/Infinity gradients, more than maxConsecutive = ${maxConsecutive}; skipping cannot recover this run.`,
      'The weights or the data are likely non-finite: check the inputs for NaN, lower the learning rate, add clipByGlobalNorm(1) after skipNonFinite, or enable rollback in guard.',
    );
    this.name = 'NonFiniteLimitError';
    this.step = step;
    this.consecutive = consecutive;
  }
}

/**
 * Skips an update whose gradients hold any NaN or ±Infinity (Optax `apply_if_finite`), counting the skips on the
 * device, and declares the run unrecoverable after more than `maxConsecutive` skips in a row.
 *
 * Zeroing the gradients is not a skip for optimizers with state (Adam's moments decay, momentum keeps moving the
 * weights), so the transformation only marks the step (`shouldApply`) and `guard` makes the skip exact. Inside
 * `guard` on cpu, wasm and tfjs-node the decision is taken on the host from the step's statistics pass (the step has
 * already run synchronously, so this stalls nothing) and a skipped step is simply not applied: no kernel, no snapshot.
 * On WebGL/WebGPU (or without guard's context) it is decided on the device, and `guard` snapshots the variables and
 * slots the step touches, applies, and restores them with `tf.where(ok, new, old)`, without a readback. Downstream
 * stages and an optimizer used without `guard` receive all-zero gradients on a skipped step (which, for plain SGD, is
 * exactly a skip); inside a `chain`, a stage decided on the host ends the chain for that step, so later stages' states
 * are not touched by a step that does not happen. The limit is checked when the step's statistics are read back, so
 * the error surfaces at the next step, at `flush()`, or through `guarded.callback()`.
 */
export function skipNonFinite(options: SkipNonFiniteOptions = {}): GradientTransformation<SkipNonFiniteState> {
  checkOptions('skipNonFinite', options, ['maxConsecutive']);
  const maxConsecutive = checkNumber('skipNonFinite', 'maxConsecutive', options.maxConsecutive ?? 10, { min: 0, integer: true });
  return {
    name: 'skipNonFinite',
    // Numbers until a step is decided on the device (which turns them into scalars): nothing to allocate up front.
    init: () => ({ transform: 'skipNonFinite', ok: true, consecutive: 0, total: 0 }),
    update(grads, state, _params, context) {
      const names = Object.keys(grads);
      const known = hostFacts(context, grads);
      if (known !== undefined) {
        const ok = known.nonFinite === 0;
        const consecutive = ok ? 0 : countOf(state.consecutive) + 1;
        const total = countOf(state.total) + (ok ? 0 : 1);
        disposeDeviceState(state);
        let out = grads;
        if (!ok) {
          out = {};
          for (const n of names) {
            out[n] = tf.zerosLike(grads[n]!);
            context!.derive(out[n]!, grads[n]!, 0);
          }
        }
        return [out, { transform: 'skipNonFinite', ok, consecutive, total }];
      }
      const next = tf.tidy(() => {
        // Σ(g·0) is 0 when every entry is finite and NaN otherwise (NaN·0 = ±Inf·0 = NaN): two cheap kernels per
        // variable, where isFinite + all is slow on the cpu backend.
        const ok = (
          names.length === 0 ? tf.scalar(true, 'bool') : tf.isFinite(tf.addN(names.map((n) => tf.sum(tf.mul(grads[n]!, 0)))))
        ) as tf.Scalar;
        const zero = tf.scalar(0, 'float32');
        const out: tf.NamedTensorMap = {};
        for (const n of names) out[n] = tf.where(ok, grads[n]!, zero);
        const bad = tf.sub(1, tf.cast(ok, 'float32'));
        return {
          out,
          ok,
          consecutive: tf.mul(tf.add(state.consecutive, 1), bad) as tf.Scalar,
          total: tf.add(state.total, bad) as tf.Scalar,
        };
      });
      disposeDeviceState(state);
      return [next.out, keepState({ transform: 'skipNonFinite', ok: next.ok, consecutive: next.consecutive, total: next.total })];
    },
    shouldApply: (state) => state.ok,
    probe: (state) => ({ consecutive: state.consecutive, total: state.total }),
    check(values, step) {
      const c = values['consecutive'];
      return c !== undefined && c > maxConsecutive ? new NonFiniteLimitError(step, c, maxConsecutive) : undefined;
    },
  };
}

function disposeDeviceState(state: SkipNonFiniteState): void {
  for (const x of [state.ok, state.consecutive, state.total]) if (typeof x === 'object') x.dispose();
}
