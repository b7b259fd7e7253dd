import type * as tf from '@tensorflow/tfjs-core';
import { GradguardError, type Diagnosis, type Problem, checkNumber, checkOptions, describeValue } from '@gradguard/core';

/** tfjs optimizers keep `learningRate` protected; every built-in one has it as a plain number field. */
export function readLearningRate(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

/**
 * Sets the learning rate of any tfjs optimizer. SGD and Momentum cache −lr in a scalar tensor and have
 * `setLearningRate`, which rebuilds it; Adam, Adamax, Adagrad, Adadelta and RMSProp read `this.learningRate` on every
 * step, so assigning the (protected) field is enough.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  checkNumber('setLearningRate', 'learningRate', learningRate, { min: 0 });
  const o = optimizer as unknown as { learningRate?: unknown; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(learningRate);
  else if (typeof o.learningRate === 'number') o.learningRate = learningRate;
  else {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `setLearningRate: the optimizer (${optimizer.getClassName?.() ?? describeValue(optimizer)}) has no numeric learningRate to set.`,
      'Use a built-in tfjs optimizer (sgd, momentum, adam, adamax, adagrad, adadelta, rmsprop), or give yours a numeric `learningRate` field.',
    );
  }
}

export interface LearningRateWarmup {
  /** Steps over which the rate rises linearly to its base value. */
  readonly steps: number;
  /** The fraction of the base rate at step 0. Default 0 (the first step then uses base / steps). */
  readonly from?: number;
}

export interface LearningRateBackoff {
  /** Multiply the rate by this on each new diagnosis of a problem in `on`. Default 0.5. */
  readonly factor?: number;
  /** The problems that trigger a back-off. Default exploding-gradient, gradient-spike, loss-divergence, non-finite. */
  readonly on?: readonly Problem[];
  /** Steps without an active problem in `on` after which one back-off is undone (the rate is divided by `factor`). Default 100. */
  readonly calmSteps?: number;
  /** The lowest fraction of the base rate a back-off may reach. Default 1e-3. */
  readonly minScale?: number;
}

export interface LearningRateControlOptions {
  readonly warmup?: LearningRateWarmup;
  readonly backoff?: LearningRateBackoff;
}

/** A learning-rate policy driven by `guard`: it asks `rateAt(step)` before each step and feeds back each step's verdict. */
export interface LearningRateControl {
  /** The rate for `step`, given the optimizer's base rate. */
  rateAt(step: number, base: number): number;
  /** Called by guard with each measured step's diagnoses and the problems still active after it. */
  observe(step: number, diagnoses: readonly Diagnosis[], active: readonly Diagnosis[]): void;
  /** Lowers the rate for good (rollback uses it): every later rate is multiplied by `factor`. */
  lower(factor: number): void;
  /** The current back-off multiplier (1 when none) times any permanent lowering. */
  readonly scale: number;
  /** Back-offs so far. */
  readonly backoffs: number;
  /** Whether it needs a monitor's diagnoses (back-off does). */
  readonly needsMonitor: boolean;
}

/**
 * The rate control rollback uses when no `learningRate` control was given: the optimizer's base rate, lowered for good
 * by each restore (no warm-up, no back-off: what `controlLearningRate()` without options does). Kept apart from
 * `controlLearningRate` so that a guard with rollback alone does not bring the warm-up and back-off policy (and its
 * option checks, ~1.3 KB minified) into a browser bundle. Rollback checked its `learningRateFactor` already.
 */
export function lowerOnRestore(): LearningRateControl {
  let permanent = 1;
  return {
    rateAt: (_step, base) => base * permanent,
    observe() {},
    lower(f) {
      permanent *= f;
    },
    get scale() {
      return permanent;
    },
    backoffs: 0,
    needsMonitor: false,
  };
}

const DEFAULT_ON: readonly Problem[] = ['exploding-gradient', 'gradient-spike', 'loss-divergence', 'non-finite'];

/**
 * Learning-rate control for any tfjs optimizer (their rate is protected; `guard` sets it through
 * `setLearningRate`): linear warm-up (Goyal et al. 2017, "Accurate, Large Minibatch SGD"), and back-off — the rate is
 * multiplied by `factor` at the onset or escalation of a diagnosed problem (exploding gradients, spikes, divergence),
 * and restored one factor at a time after `calmSteps` steps in which none of those problems is active.
 *
 * @example
 * guard(tf.train.adam(1e-3), { monitor, learningRate: controlLearningRate({ warmup: { steps: 100 }, backoff: {} }) })
 */
export function controlLearningRate(options: LearningRateControlOptions = {}): LearningRateControl {
  const where = 'controlLearningRate';
  checkOptions(where, options, ['warmup', 'backoff']);
  if (options.warmup !== undefined) checkOptions(where, options.warmup, ['steps', 'from'], 'warmup');
  if (options.backoff !== undefined) checkOptions(where, options.backoff, ['factor', 'on', 'calmSteps', 'minScale'], 'backoff');
  if (options.backoff?.on !== undefined && !Array.isArray(options.backoff.on)) {
    throw new GradguardError('INVALID_ARGUMENT', `${where}: backoff.on must be an array of problems, got ${describeValue(options.backoff.on)}.`, "E.g. on: ['exploding-gradient', 'non-finite'].");
  }
  const warmSteps = options.warmup ? checkNumber(where, 'warmup.steps', options.warmup.steps, { min: 1, integer: true }) : 0;
  const warmFrom = checkNumber(where, 'warmup.from', options.warmup?.from ?? 0, { min: 0, max: 1 });
  const b = options.backoff;
  const factor = checkNumber(where, 'backoff.factor', b?.factor ?? 0.5, { exclusiveMin: 0, max: 1 });
  const calmSteps = checkNumber(where, 'backoff.calmSteps', b?.calmSteps ?? 100, { min: 1, integer: true });
  const minScale = checkNumber(where, 'backoff.minScale', b?.minScale ?? 1e-3, { exclusiveMin: 0, max: 1 });
  const on = new Set(b?.on ?? DEFAULT_ON);
  let backoffScale = 1;
  let permanent = 1;
  let backoffs = 0;
  let calmSince = -1;
  return {
    rateAt(step, base) {
      const warm = warmSteps > 0 && step < warmSteps ? warmFrom + ((1 - warmFrom) * (step + 1)) / warmSteps : 1;
      return base * warm * backoffScale * permanent;
    },
    observe(step, diagnoses, active) {
      if (!b) return;
      const trigger = diagnoses.some((d) => on.has(d.problem) && (d.phase === 'onset' || d.phase === 'escalation'));
      if (trigger) {
        backoffScale = Math.max(minScale, backoffScale * factor);
        backoffs++;
        calmSince = -1;
        return;
      }
      if (active.some((d) => on.has(d.problem))) {
        calmSince = -1;
        return;
      }
      if (backoffScale >= 1) return;
      if (calmSince < 0) calmSince = step;
      if (step - calmSince + 1 >= calmSteps) {
        backoffScale = Math.min(1, backoffScale / factor);
        calmSince = -1;
      }
    },
    lower(f) {
      checkNumber(where, 'factor', f, { exclusiveMin: 0, max: 1 });
      permanent *= f;
    },
    get scale() {
      return backoffScale * permanent;
    },
    get backoffs() {
      return backoffs;
    },
    needsMonitor: b !== undefined,
  };
}
