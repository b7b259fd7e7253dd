import { GradguardError, type LayerLike, describeValue, formatNumber } from '@gradguard/core';

/** Options of `guarded.callback()` / `terminateOnProblem`. */
export interface TerminateOptions {
  /** The model to stop; default the one given to `guard` (or `attach`). */
  readonly model?: LayerLike;
  /** Called once with the reason when training is stopped. Default: `console.warn` of the message. */
  readonly onStop?: (reason: GradguardError) => void;
}

/** The `model.fit` callback (a tfjs `CustomCallbackArgs`): `model.fit(x, y, { callbacks: [guarded.callback()] })`. */
export interface TerminateCallback {
  onBatchBegin(batch: number): Promise<void>;
  onEpochEnd(epoch: number): Promise<void>;
  onTrainEnd(): Promise<void>;
}

/** What was non-finite at a read-back step, for the stop message. */
export interface NonFiniteFacts {
  readonly step: number;
  readonly loss: number | undefined;
  /** NaN/Infinity gradient entries. */
  readonly gradients: number;
  /** The weights before the update were finite (undefined: not measured). */
  readonly weightsFinite: boolean | undefined;
  /** The update was applied. */
  readonly applied: boolean;
}

/**
 * When a run cannot go on, and how it ends: the first verdict is sticky; without a fit callback the next step throws
 * it (and `flush()` once); with `guarded.callback()` installed, training stops cleanly at the next batch boundary and
 * the remaining steps are no-ops (Keras `TerminateOnNaN`).
 */
export interface StopPolicy {
  readonly problem: GradguardError | undefined;
  /** A callback stops the run: the steps turn into no-ops instead of throwing. */
  readonly stopping: boolean;
  decide(e: GradguardError): void;
  /** At the start of a step: true to skip it silently (stopping), throws the verdict otherwise. */
  halt(): boolean;
  /** The verdict once for `flush()`, unless a callback reports it. */
  takeUnreported(): GradguardError | undefined;
  /**
   * With neither skip nor rollback, NaN/Infinity that reached the weights ends the run. Says exactly what is
   * non-finite: the loss alone (gradients finite) does not corrupt the weights, and is not a reason to stop.
   */
  judgeNonFinite(facts: NonFiniteFacts): void;
  callback(model: LayerLike | undefined, options: TerminateOptions): TerminateCallback;
}

export function createStopPolicy(flush: () => Promise<void>): StopPolicy {
  let verdict: GradguardError | undefined;
  let unreported = false;
  let stopping = false;
  const decide = (e: GradguardError): void => {
    if (verdict) return;
    verdict = e;
    unreported = true;
  };
  return {
    get problem() {
      return verdict;
    },
    get stopping() {
      return stopping;
    },
    decide,
    halt() {
      if (!verdict) return false;
      if (stopping) return true; // the fit callback stops the run at the next batch boundary
      throw verdict;
    },
    takeUnreported() {
      if (!verdict || !unreported || stopping) return undefined;
      unreported = false;
      return verdict;
    },
    judgeNonFinite(f) {
      if (!f.applied || f.gradients === 0) return; // nothing non-finite was written into the weights
      const parts = [
        f.loss !== undefined && !Number.isFinite(f.loss) ? `the loss is ${formatNumber(f.loss)}` : undefined,
        `${f.gradients} gradient entries are NaN/Infinity and were applied`,
        f.weightsFinite === false ? 'the weights were already non-finite before this update' : undefined,
      ].filter(Boolean);
      decide(
        new GradguardError(
          'UNRECOVERABLE',
          `At step ${f.step} ${parts.join('; ')}: the weights are no longer finite and nothing can undo it.`,
          'Clip the gradients (clipByGlobalNorm(1)), skip bad steps with chain(skipNonFinite(), ...), enable rollback in guard(...), or lower the learning rate.',
        ),
      );
    },
    callback(model, options) {
      const target = options.model ?? model;
      if (target === undefined) {
        throw new GradguardError('INVALID_ARGUMENT', 'guard.callback: no model to stop.', 'Pass it to guard(optimizer, { model }) or to callback({ model }).');
      }
      const onStop = options.onStop ?? ((e: GradguardError) => console.warn(`gradguard: training stopped. ${e.message}`));
      stopping = true;
      let reported = false;
      const stopIfNeeded = (): void => {
        if (!verdict) return;
        (target as unknown as { stopTraining: boolean }).stopTraining = true;
        if (!reported) {
          reported = true;
          unreported = false;
          onStop(verdict);
        }
      };
      return {
        onBatchBegin: async () => stopIfNeeded(),
        onEpochEnd: async () => stopIfNeeded(),
        onTrainEnd: async () => {
          await flush();
          stopIfNeeded();
        },
      };
    },
  };
}

/** The `model.fit` callback of a guarded optimizer: `callbacks: [terminateOnProblem(guarded)]`. Same as `guarded.callback()`. */
export function terminateOnProblem(guarded: { callback(options?: TerminateOptions): TerminateCallback }, options?: TerminateOptions): TerminateCallback {
  if ((guarded as { [key: symbol]: unknown } | undefined)?.[Symbol.for('gradguard.guarded')] !== true) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `terminateOnProblem: expected the optimizer returned by guard(...), got ${describeValue(guarded)}.`,
      'Wrap the optimizer first: const guarded = guard(tf.train.adam(1e-3), { model, transform }).',
    );
  }
  return guarded.callback(options);
}
