import type * as tf from '@tensorflow/tfjs-core';
import type { GradguardError, LayerLike, Monitor, StepStatistics } from '@gradguard/core';
import type { LearningRateControl } from './learning-rate';
import type { NonFiniteReplay } from './replay-non-finite';
import type { RollbackEvent, RollbackOptions } from './rollback';
import type { TerminateCallback, TerminateOptions } from './stop-policy';
import type { GradientTransformation, TransformState } from './transformation';

/** `{ name, tensor }`, as tfjs optimizers take gradients in list form (tfjs-core does not export this type). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

export interface GuardOptions {
  /** The transformation applied to every step's gradients. Omit it to only watch (nothing is changed). */
  readonly transform?: GradientTransformation;
  /**
   * Prints each critical diagnosis (`'warning'`: warnings too) once, at onset, to `console.warn`, so a plain
   * `model.fit` that goes wrong is never silent. Needs `monitor`. `'none'` when something else shows the diagnoses
   * (a recorder's console sink: `watchTraining` with a recorder turns it off). Default `'critical'`.
   */
  readonly print?: 'none' | 'critical' | 'warning';
  /** Keras' `clipnorm`: each gradient tensor's L2 norm clipped to this (`clipByNorm`), after `transform`. */
  readonly clipnorm?: number;
  /** Keras' `clipvalue`: every gradient entry clipped to [−v, v] (`clipByValue`), after `transform`. */
  readonly clipvalue?: number;
  /** Keras' `global_clipnorm`: the global norm of all gradients clipped to this (`clipByGlobalNorm`), after `transform`. */
  readonly globalClipnorm?: number;
  /** Fed every measured step's statistics; its diagnoses follow the step's record. */
  readonly monitor?: Monitor;
  /** The model being trained, to attribute variables to layers. Can also be given later with `attach`. */
  readonly model?: LayerLike;
  /** Measure every k-th step only (default 1: every step). Transformations still run on every step. */
  readonly statsEvery?: number;
  /**
   * Measure the weights' norms on every k-th measured step (default 10), and always on the first 10 measured steps,
   * on the step after one whose gradients or loss were not finite, and while a critical problem is active.
   * Weights move by at most about the learning rate per step, so a sparser cadence misses no growth the weight rule
   * would report, and halves the statistics pass on host backends. `1` measures them on every measured step.
   */
  readonly weightsEvery?: number;
  /** Called with each step's statistics, in step order, once they are read back (before the monitor's diagnoses). */
  readonly onStep?: (stats: StepStatistics) => void;
  /** Warm-up and back-off of the inner optimizer's learning rate (`controlLearningRate(...)`). Back-off needs `monitor`. */
  readonly learningRate?: LearningRateControl;
  /** Restore the last good weights when the loss or the applied gradients turn non-finite, then go on at a lower rate. */
  readonly rollback?: RollbackOptions | boolean;
  /**
   * Also measure the recurrent kernels' spectral radius and largest singular value (SimpleRNN, LSTM, GRU) on measured
   * steps, in the same read-back, for `detectRecurrentInstability`: those of the weights before the update. Needs
   * `model`. `{ every: k }` measures them on every k-th measured step only: they cost O(units³) per gate (repeated
   * squaring, `squarings` of them, default 12) and change slowly. Default false.
   */
  readonly recurrent?: boolean | { readonly every?: number; readonly squarings?: number };
  /**
   * Per-layer histograms of |g| on fixed log-spaced bins (`bins` 24 from 10^`minLog10` -10 to 10^`maxLog10` 2, as
   * `gradientStats`' `histogram`) on every `every`-th measured step (default 100), in the step record: the TensorBoard
   * sink draws them as per-layer gradient histograms. They cost one binary search per gradient entry on those steps
   * only. `true` takes every default. Default false.
   */
  readonly histogram?: boolean | { readonly every?: number; readonly bins?: number; readonly minLog10?: number; readonly maxLog10?: number };
  /**
   * The statistics kernel: `auto` (default) is one pass over host buffers on cpu, wasm and tfjs-node (skips and clips
   * decided there, on the host) and one fused device graph with one asynchronous readback on WebGL/WebGPU. `device`
   * forces the device path everywhere (for comparison and tests).
   */
  readonly kernel?: 'auto' | 'device';
  /**
   * On a step whose loss or gradients are NaN/Infinity, run the same loss function again on this backend (`'cpu'`),
   * with the same weights and batch, and say whether the training backend or the model produced it (tfjs issues
   * #1321, #4326, #5573): see `replays`. Needs `minimize` (as `model.fit` calls it). Costs nothing on healthy steps on
   * cpu/wasm/tfjs-node, one synchronous read of two numbers per step on WebGL/WebGPU. Default: off.
   */
  readonly replayNonFiniteOn?: string;
  /** Called with each replay's verdict (`replayNonFiniteOn`), as it is made. */
  readonly onReplay?: (replay: NonFiniteReplay) => void;
}

/** What `guard` returns: a drop-in `tf.Optimizer` that also measures and transforms. */
export interface GuardedOptimizer extends tf.Optimizer {
  /** The optimizer that applies the (transformed) gradients. */
  readonly inner: tf.Optimizer;
  readonly transform: GradientTransformation | undefined;
  readonly monitor: Monitor | undefined;
  /** Optimizer updates attempted through this guard so far (skipped ones included). */
  readonly step: number;
  /** The statistics of the most recent step read back, if any. */
  readonly latest: StepStatistics | undefined;
  /** The transformation's probe values (`skipNonFinite` counts, `autoClip` bound...) of the latest measured step. */
  readonly probes: Readonly<Record<string, number>>;
  /** Steps the statistics reported as skipped so far. */
  readonly skipped: number;
  /** Restores made by rollback so far. */
  readonly rollbacks: readonly RollbackEvent[];
  /** Non-finite steps replayed on another backend so far, with their verdicts (`replayNonFiniteOn`). */
  readonly replays: readonly NonFiniteReplay[];
  /** Why the run cannot go on, once known (sticky). */
  readonly problem: GradguardError | undefined;
  /** Waits until every measured step has been read back and handed to the monitor and listeners. */
  flush(): Promise<void>;
  /** Calls `listener` with each step's statistics; returns an unsubscribe function. */
  onStep(listener: (stats: StepStatistics) => void): () => void;
  /** Tells the guard which model owns the variables (for per-layer statistics and attribution). */
  attach(model: LayerLike): void;
  /** The transformation's current state (read-only; for inspection and tests). */
  readonly transformState: TransformState | undefined;
  /**
   * A `model.fit` callback that stops training cleanly (like Keras `TerminateOnNaN`) when the policy says the run cannot
   * recover: too many skipped steps, rollback exhausted, or — with neither skip nor rollback — NaN/Infinity gradients
   * written into the weights. While it is installed the guard no longer throws from the step; it turns the remaining
   * steps into no-ops.
   */
  callback(options?: TerminateOptions): TerminateCallback;
}

