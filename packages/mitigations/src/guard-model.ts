import type * as tf from '@tensorflow/tfjs-core';
import { GradguardError, type LayerLike, describeValue } from '@gradguard/core';
import { guard } from './guard';
import { isRestoredGuard } from './checkpoint';
import type { GuardOptions, GuardedOptimizer } from './guard-types';

/** A compiled tfjs `LayersModel`, structurally: its layers and the optimizer `model.compile` set. */
export interface CompiledModelLike extends LayerLike {
  optimizer: tf.Optimizer;
}

const GUARDED = Symbol.for('gradguard.guarded');
/** The options each model was guarded with, so a second identical call returns the same guard. */
const guardedWith = new WeakMap<object, { readonly optimizer: GuardedOptimizer; readonly options: GuardOptions }>();

const bad = (message: string, hint: string): GradguardError => new GradguardError('INVALID_ARGUMENT', `guardModel: ${message}`, hint);

/**
 * Guards the optimizer of an already compiled model in place — `model.compile({ optimizer: 'adam', loss })` as the
 * script wrote it, then `guardModel(model)` — so the next `fit`, `fitDataset` or `trainOnBatch` steps through
 * `guard` with the model attached (per-layer attribution). The same `tf.Optimizer` seam as `guard`: `model.fit` reaches
 * gradients only through `optimizer.minimize`. The model keeps owning the optimizer it made from a name (disposed
 * with the model).
 *
 * Idempotent: calling it again with no options, or with the same option values, returns the same guard. A model
 * reloaded from a guarded checkpoint (see `GuardCheckpoint`) comes back guarded: `guardModel(model)` attaches the
 * layers, `guardModel(model, options)` re-guards the reloaded inner optimizer (moments kept) with `options`.
 *
 * @example
 * model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
 * guardModel(model, { monitor: createMonitor(), globalClipnorm: 1 });
 * await model.fit(xs, ys, { epochs: 5 });
 */
export function guardModel(model: CompiledModelLike, options: GuardOptions = {}): GuardedOptimizer {
  if (model === null || typeof model !== 'object' || !Array.isArray((model as { layers?: unknown }).layers)) {
    throw bad(`expected a compiled tfjs LayersModel, got ${describeValue(model)}.`, 'Pass the model you compiled, e.g. the result of tf.sequential() after model.compile({ optimizer, loss }).');
  }
  const current = (model as { optimizer?: unknown }).optimizer;
  if (current === null || current === undefined) {
    throw bad(
      `model "${model.name}" is not compiled: it has no optimizer to guard.`,
      "Call model.compile({ optimizer: 'adam', loss: 'meanSquaredError' }) first, then guardModel(model); or compile with guard('adam', options) directly.",
    );
  }
  if (options.model !== undefined && options.model !== model) {
    throw bad('options.model is another model than the one given.', 'Leave options.model out: guardModel attaches the model it guards.');
  }
  const optimizer = current as tf.Optimizer & { [GUARDED]?: boolean };
  if (optimizer[GUARDED] === true) {
    const guarded = optimizer as unknown as GuardedOptimizer;
    const before = guardedWith.get(model);
    const empty = Object.keys(options).filter((k) => k !== 'model').length === 0;
    if (before && before.optimizer === guarded && (empty || sameOptions(before.options, options))) return guarded;
    if (!before && empty) {
      guarded.attach(model);
      guardedWith.set(model, { optimizer: guarded, options: {} });
      return guarded;
    }
    if (!isRestoredGuard(guarded)) {
      throw bad(
        `model "${model.name}" is already guarded${before ? ' with other options' : ' (compiled with guard(...))'}; guarding it twice would measure and clip every step twice.`,
        'Call guardModel once per model with every option; to change them, first set model.optimizer = model.optimizer.inner.',
      );
    }
    // A guard rebuilt from a checkpoint, given the options a checkpoint cannot hold (transforms, rollback...).
    return installGuard(model, guard(guarded.inner, { ...options, model }), options);
  }
  return installGuard(model, guard(optimizer, { ...options, model }), options);
}

/** Puts `guarded` in as the model's optimizer (internal: `guardModel` and `instrumentTraining`). */
export function installGuard(model: CompiledModelLike, guarded: GuardedOptimizer, options: GuardOptions = {}): GuardedOptimizer {
  // The optimizer setter of LayersModel hands ownership to the caller; a model that made its optimizer from a name
  // keeps disposing it (the guard disposes its inner optimizer).
  const m = model as CompiledModelLike & { isOptimizerOwned?: boolean; optimizer_?: tf.Optimizer };
  const owned = m.isOptimizerOwned;
  const before = m.optimizer;
  m.optimizer = guarded;
  if (owned !== undefined) m.isOptimizerOwned = owned;
  // A Sequential's setter reaches its inner model only; its own field is what its dispose() disposes.
  if (m.optimizer_ === before) m.optimizer_ = guarded;
  guardedWith.set(model, { optimizer: guarded, options });
  return guarded;
}

function sameOptions(a: GuardOptions, b: GuardOptions): boolean {
  const keys = (o: GuardOptions): string[] => Object.keys(o).filter((k) => k !== 'model' && o[k as keyof GuardOptions] !== undefined).sort();
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k as keyof GuardOptions] === b[k as keyof GuardOptions]);
}
