import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, type ReadValues, type StepReadback, formatNumber } from '@gradguard/core';
import { type LearningRateControl, readLearningRate } from './learning-rate';
import { type Snapshot, disposeSnapshot, optimizerSlots, takeSnapshot } from './optimizer-slots';
import type { TensorMap } from './transformation';

export interface RollbackOptions {
  /** Keep a snapshot of the weights and optimizer state every this many steps (on measured steps). Default 50. */
  readonly every?: number;
  /** After a restore, the learning rate is multiplied by this for good. Default 0.5. */
  readonly learningRateFactor?: number;
  /** Restores allowed without reaching a newer good snapshot before the run is declared unrecoverable. Default 3. */
  readonly maxRollbacks?: number;
}

/** A restore performed by rollback. */
export interface RollbackEvent {
  /** The step whose statistics showed the divergence. */
  readonly detectedAt: number;
  /** The step after which the restored weights were saved; -1 for the initial weights (saved before the first update). */
  readonly restoredTo: number;
  /** The first step that ran on the restored weights. */
  readonly resumedAt: number;
  /** The learning rate from then on, when the optimizer exposes one. */
  readonly learningRate: number | undefined;
}

/** How a measured step went, as read back: what rollback judges snapshots and divergence by. */
export interface StepOutcome {
  readonly step: number;
  /** The loss was read and is NaN/Infinity. */
  readonly lossBad: boolean;
  /** The update was applied (not skipped). */
  readonly applied: boolean;
  /** NaN/Infinity gradient entries (before any transformation). */
  readonly nonFinite: number;
  readonly loss: number | undefined;
}

/**
 * Rollback to the last good weights, on its own schedule: a snapshot of the weights and optimizer slots every `every`
 * measured steps (and the initial weights before the first update), judged good once its own values were read back
 * finite AND the next measured step, which ran on those weights, neither lost a finite loss nor applied non-finite
 * gradients. On divergence it restores the newest good snapshot and lowers the learning rate for good.
 */
export interface Rollback {
  /** Step 0, before the update: keeps the initial weights, judged by this step's read-back. */
  beforeApply(step: number, params: TensorMap, readback: StepReadback | undefined): void;
  /** After a measured step's update: a snapshot when one is due, its finite flag registered in the readback. */
  afterApply(step: number, params: TensorMap, readback: StepReadback): void;
  /** Judges the snapshots by a read-back step; restores on divergence. Returns the restore, or the reason to stop. */
  settle(outcome: StepOutcome, values: ReadValues): RollbackEvent | GradguardError | undefined;
  /** The step from which statistics describe the restored weights (steps before it ran on abandoned ones). */
  readonly restoredAt: number;
  readonly events: readonly RollbackEvent[];
  dispose(): void;
}

const INITIAL = 'rollback:initial';
const SNAPSHOT = 'rollback:snapshot';

export function createRollback(
  options: RollbackOptions,
  inner: tf.Optimizer,
  control: LearningRateControl,
  currentStep: () => number,
  baseRate: () => number | undefined,
): Rollback {
  // checkGuardArguments checked every key with these rules (guard: rollback.every must be ...) before guard built this.
  const { every = 50, learningRateFactor: factor = 0.5, maxRollbacks = 3 } = options;
  /** Good snapshots, oldest first (at most two: a restore that diverges again falls back to the older one). */
  let confirmed: { step: number; snapshot: Snapshot }[] = [];
  /** Snapshots awaiting a verdict; `finite` once their own values were read back finite. */
  const pending = new Map<number, { snapshot: Snapshot; finite: boolean }>();
  let initial: { step: number; snapshot: Snapshot } | undefined;
  let lastSnapshotStep = Number.NEGATIVE_INFINITY;
  let restoredAt = 0;
  let sinceGood = 0;
  /** Consecutive measured steps whose loss was non-finite or whose update was skipped. */
  let trouble = 0;
  const events: RollbackEvent[] = [];
  const snapshotOf = (params: TensorMap): Snapshot => takeSnapshot([...(Object.values(params) as tf.Variable[]), ...optimizerSlots(inner)]);
  const flagOf = (s: Snapshot): tf.Tensor =>
    tf.tidy(() => (s.length === 0 ? tf.scalar(1) : tf.cast(s.map(([, t]) => tf.all(tf.isFinite(t))).reduce((a, b) => tf.logicalAnd(a, b)), 'float32')));
  const drop = (k: number): void => {
    const p = pending.get(k);
    if (p) disposeSnapshot(p.snapshot);
    pending.delete(k);
  };
  const confirm = (step: number, snapshot: Snapshot, front: boolean): void => {
    if (front) confirmed.unshift({ step, snapshot });
    else confirmed.push({ step, snapshot });
    if (confirmed.length > 2) disposeSnapshot(confirmed.shift()!.snapshot);
  };

  function restore(detectedAt: number, why: string): RollbackEvent | GradguardError {
    const fix = 'Lower the base learning rate, clip the gradients (clipByGlobalNorm(1) or adaptiveGradClip(0.01)), or check the data for NaN.';
    if (confirmed.length === 0) return new GradguardError('UNRECOVERABLE', `rollback: at step ${detectedAt} ${why}, and no good snapshot has been kept yet to go back to.`, fix);
    if (sinceGood >= maxRollbacks) {
      return new GradguardError(
        'UNRECOVERABLE',
        `rollback: at step ${detectedAt} ${why} again; the last good weights were restored ${sinceGood} times and the run diverged each time, down to learning rate ${formatNumber(readLearningRate(inner) ?? Number.NaN)}.`,
        fix,
      );
    }
    // Diverging again right after a restore means the newest snapshot was already doomed: go one further back.
    if (sinceGood > 0 && confirmed.length > 1) disposeSnapshot(confirmed.pop()!.snapshot);
    const target = confirmed.at(-1)!;
    for (const [v, saved] of target.snapshot) if (!v.isDisposed) v.assign(saved);
    // Optimizer slots made after the snapshot (lazily, by the first update of each weight) go back to their initial value.
    const saved = new Set(target.snapshot.map(([v]) => v));
    const slotStart = initialSlotValue(inner);
    tf.tidy(() => {
      for (const v of optimizerSlots(inner)) if (!saved.has(v) && !v.isDisposed) v.assign(tf.fill(v.shape, slotStart, v.dtype));
    });
    for (const k of [...pending.keys()]) drop(k);
    control.lower(factor);
    const now = currentStep();
    restoredAt = now;
    lastSnapshotStep = now - 1; // the next snapshot comes `every` steps after the restore
    sinceGood++;
    const base = baseRate();
    const event = { detectedAt, restoredTo: target.step, resumedAt: now, learningRate: base !== undefined ? control.rateAt(Number.MAX_SAFE_INTEGER, base) : undefined };
    events.push(event);
    return event;
  }

  return {
    get restoredAt() {
      return restoredAt;
    },
    events,
    beforeApply(step, params, readback) {
      // The initial weights are the first good snapshot: a run that diverges on its very first updates (a huge initial
      // gradient) can go back to them. Judged like any snapshot, by the step that runs on them (this one).
      if (step !== 0 || readback === undefined) return;
      const snapshot = snapshotOf(params);
      initial = { step, snapshot };
      readback.add(INITIAL, flagOf(snapshot));
    },
    afterApply(step, params, readback) {
      if (step - lastSnapshotStep < every) return;
      const snapshot = snapshotOf(params);
      lastSnapshotStep = step;
      pending.set(step, { snapshot, finite: false });
      readback.add(SNAPSHOT, flagOf(snapshot));
    },
    settle(o, values) {
      const appliedBad = o.applied && o.nonFinite > 0;
      const bad = o.lossBad || appliedBad;
      if (initial && initial.step === o.step) {
        // This step's loss and gradients were computed on the initial weights: they are good if all of that is finite.
        if (values.get(INITIAL)?.[0] === 1 && !o.lossBad && o.nonFinite === 0) confirm(-1, initial.snapshot, true);
        else disposeSnapshot(initial.snapshot);
        initial = undefined;
      }
      const ownFinite = values.get(SNAPSHOT)?.[0] === 1 && !appliedBad;
      for (const [k, p] of [...pending]) {
        if (k === o.step) {
          if (ownFinite) p.finite = true;
          else drop(k);
        } else if (k < o.step && p.finite) {
          if (bad) {
            drop(k);
            continue;
          }
          pending.delete(k);
          confirm(k, p.snapshot, false);
          sinceGood = 0;
        }
      }
      // Steps that ran before a restore reached them report the abandoned weights: they count for nothing.
      if (o.step < restoredAt) return undefined;
      trouble = o.lossBad || !o.applied ? trouble + 1 : 0;
      // A single skipped step is a bad batch that the skip already handled; two in a row point at the weights.
      if (!(appliedBad || (o.lossBad && o.applied) || trouble >= 2)) return undefined;
      trouble = 0;
      return restore(o.step, o.lossBad ? `the loss is ${o.loss}` : `${o.nonFinite} NaN/Infinity gradient entries were ${o.applied ? 'applied' : 'met'}`);
    },
    dispose() {
      for (const c of confirmed) disposeSnapshot(c.snapshot);
      confirmed = [];
      if (initial) disposeSnapshot(initial.snapshot);
      initial = undefined;
      for (const k of [...pending.keys()]) drop(k);
    },
  };
}

/** The value tfjs's built-in optimizers start their lazily made slots at: 0, except Adagrad's accumulator. */
function initialSlotValue(optimizer: tf.Optimizer): number {
  const v = (optimizer as unknown as { initialAccumulatorValue?: unknown }).initialAccumulatorValue;
  return optimizer.getClassName() === 'Adagrad' && typeof v === 'number' ? v : 0;
}
