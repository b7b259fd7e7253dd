import type * as tf from '@tensorflow/tfjs-core';
import { type Diagnosis, type LayerLike, type Monitor, type StepStatistics, createMonitor } from '@gradguard/core';
import { type OptimizerName, guard } from './guard';
import type { GuardOptions, GuardedOptimizer } from './guard-types';

/** What a run is recorded by (a `@gradguard/reporter` recorder, structurally: this package does not depend on it). */
export interface RunRecorderLike {
  watch(source: { onStep(l: (s: StepStatistics) => void): () => void; readonly monitor?: { subscribe(l: (d: Diagnosis) => void): () => void } | undefined }): () => void;
  end(status: 'completed' | 'stopped' | 'failed', details?: { reason?: string; finalLoss?: number | null }): Promise<void>;
}

export interface WatchTrainingOptions extends Omit<GuardOptions, 'monitor'> {
  /** The monitor; default `createMonitor()` with the default detectors. */
  readonly monitor?: Monitor;
  /** Records every step and diagnosis (console, JSONL, HTML, TensorBoard sinks) until `end`. */
  readonly recorder?: RunRecorderLike;
  /**
   * Stop at the first step whose loss or gradients are NaN/Infinity, as nothing useful follows when nothing undoes
   * it (no skip, no rollback). Default false: only the guard's own verdict (skip limit, rollback exhausted) stops.
   */
  readonly stopOnNonFinite?: boolean;
}

/** One watched training run: guard + monitor + recorder + stop policy, wired once for every caller. */
export interface WatchedTraining {
  readonly optimizer: GuardedOptimizer;
  readonly monitor: Monitor;
  /** The first step whose loss or gradients were NaN/Infinity, or null. */
  readonly firstNonFiniteStep: number | null;
  /** Why the run should stop now (the guard's verdict, or a non-finite step with `stopOnNonFinite`), or undefined. */
  readonly stopReason: string | undefined;
  /** Waits for every step's statistics to be read back and recorded; rethrows the guard's failures. */
  flush(): Promise<void>;
  /**
   * `model.fit` callbacks: after each batch, flush (a guard's verdict makes `fit` fail with it) and stop the model
   * once `stopReason` is set (or after `maxSteps` optimizer steps).
   */
  fitCallbacks(model: LayerLike & { stopTraining: boolean }, options?: { readonly maxSteps?: number }): { onBatchEnd(): Promise<void> };
  /** Ends the run: flush, detach the recorder and end its log with the status ('stopped' when a stop reason is set). */
  end(status?: 'completed' | 'failed', details?: { reason?: string; finalLoss?: number | null }): Promise<void>;
}

/**
 * Guards `optimizer` for one training run and wires everything a run needs around it — the monitor, a recorder's
 * sinks, the stop policy — the one way the CLI, autopilot and the viewer all do it.
 *
 * @example
 * const run = watchTraining('adam', { model, transform: clipByGlobalNorm(1), recorder, stopOnNonFinite: true });
 * model.compile({ optimizer: run.optimizer, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 5, callbacks: run.fitCallbacks(model) });
 * await run.end();
 */
export function watchTraining(optimizer: tf.Optimizer | OptimizerName, options: WatchTrainingOptions = {}): WatchedTraining {
  const { recorder, stopOnNonFinite = false, monitor = createMonitor(), ...guardOptions } = options;
  // With a recorder its sinks show the diagnoses (the console sink among them): the guard does not print them too.
  const guarded = guard(optimizer, { ...(recorder ? { print: 'none' as const } : {}), ...guardOptions, monitor });
  let firstNonFiniteStep: number | null = null;
  let lastLoss: number | null = null;
  const offStep = guarded.onStep((s) => {
    if (s.loss !== undefined) lastLoss = s.loss;
    if (firstNonFiniteStep === null && (s.nonFinite > 0 || (s.loss !== undefined && !Number.isFinite(s.loss)))) firstNonFiniteStep = s.step;
  });
  const unwatch = recorder?.watch(guarded);
  const stopReason = (): string | undefined => {
    if (guarded.problem) return guarded.problem.message;
    if (stopOnNonFinite && firstNonFiniteStep !== null) return `loss and gradients non-finite since step ${firstNonFiniteStep}: the weights are lost`;
    return undefined;
  };
  let ended = false;
  return {
    optimizer: guarded,
    monitor,
    get firstNonFiniteStep() {
      return firstNonFiniteStep;
    },
    get stopReason() {
      return stopReason();
    },
    flush: () => guarded.flush(),
    fitCallbacks(model, fit = {}) {
      return {
        onBatchEnd: async () => {
          // A verdict of the guard (skip limit, rollback exhausted) is thrown here: model.fit fails with it, and the
          // caller ends the run as failed. Add `guarded.callback()` to end such runs cleanly instead.
          await guarded.flush();
          if (stopReason() !== undefined || (fit.maxSteps !== undefined && guarded.step >= fit.maxSteps)) model.stopTraining = true;
        },
      };
    },
    async end(status = 'completed', details = {}) {
      if (ended) return;
      ended = true;
      try {
        if (status !== 'failed') await guarded.flush();
      } finally {
        offStep();
        unwatch?.();
        const reason = details.reason ?? (status === 'failed' ? undefined : stopReason());
        await recorder?.end(status === 'failed' ? 'failed' : reason ? 'stopped' : 'completed', {
          ...(reason ? { reason } : {}),
          finalLoss: details.finalLoss !== undefined ? details.finalLoss : lastLoss,
        });
      }
    },
  };
}
