import * as tf from '@tensorflow/tfjs-core';
import type { TensorFacts } from '@gradguard/core';

/**
 * The state of a transformation: a plain readonly object tagged with the transformation's name, holding numbers and
 * tensors (EMAs, histories, counters). The transformation that made it owns its tensors.
 */
export interface TransformState {
  readonly transform: string;
}

/** Gradients or parameters keyed by variable name (the keys of `optimizer.computeGradients(...).grads`). */
export type TensorMap = tf.NamedTensorMap;

/**
 * A gradient transformation, as in Optax: `init(params)` makes the state, `update(grads, state, params)` returns the
 * transformed gradients and the next state.
 *
 * Tensor ownership, which every transformation follows so that chains never leak:
 * - `update` never disposes `grads` or `params`. The returned map may hold the very tensors it was given (passed
 *   through) and new ones; whoever called `update` disposes the returned tensors that were not in `grads`.
 * - `update` consumes `state`: tensors of the old state it does not carry into the new one are disposed by it. The
 *   returned state belongs to the caller until it is passed to the next `update` or to `disposeState`.
 * - Everything runs on the device: no `dataSync`, no readback.
 */
export interface GradientTransformation<S extends TransformState = TransformState> {
  /** The factory's name, e.g. `clipByGlobalNorm`; tags the state. */
  readonly name: string;
  init(params: TensorMap): S;
  /**
   * `context` is given by `guard`: on backends whose tensors live in host memory it knows each gradient's Σg² and
   * non-finite count from the step's statistics pass, so a rule can decide on the host with no kernel and no second
   * norm computation. Without it (a custom loop, a device backend) everything runs on the device.
   */
  update(grads: TensorMap, state: S, params: TensorMap, context?: StepContext): readonly [TensorMap, S];
  /**
   * Optional. Whether the update just computed may happen at all — to the weights and to the optimizer's moments —
   * read from `state` (the one `update` just returned). A boolean decided on the host: `false` makes `guard` skip
   * the step exactly by not applying it (nothing to snapshot or restore). A boolean scalar tensor decided on the
   * device: `guard` gates the update on the device (snapshot, apply, `tf.where(ok, new, old)`). `skipNonFinite`
   * implements it.
   */
  shouldApply?(state: S): tf.Tensor | boolean | undefined;
  /**
   * Optional. Values held by `state` that `guard` reads back with the step's statistics (the same single readback,
   * each under its own key) — tensors, or numbers already known on the host — then hands to `check` by the same keys.
   */
  probe?(state: S): Readonly<Record<string, tf.Tensor | number>>;
  /** Optional. Judges a step's probe values once read back; returns an error when training cannot go on. */
  check?(values: Readonly<Record<string, number>>, step: number): Error | undefined;
  /**
   * Optional. Runs after the optimizer applied the step, with the live variables and the learning rate in force:
   * for rules that act on the weights rather than on the gradients (decoupled weight decay).
   */
  afterApply?(params: TensorMap, state: S, context: ApplyContext): void;
}

/**
 * What `guard` tells a transformation about the step it is in: the host facts of the gradients the statistics pass
 * measured (cpu, wasm, tfjs-node), by tensor identity. A stage that scales measured gradients records the facts of its
 * outputs with `derive`, so the next stage (and guard's post-transform norm) still needs no kernel.
 */
export interface StepContext {
  /** The optimizer update this is (0-based). */
  readonly step: number;
  /**
   * The step's loss, when `guard` knows it (`minimize`, as `model.fit` calls it; not `applyGradients`). Borrowed:
   * read it, never dispose it. A rule judging the loss (`skipOnSpike`) reads it on the host where tensors live there.
   */
  readonly loss?: tf.Scalar;
  /** Σg² and the non-finite count of `tensor`, when known on the host. */
  facts(tensor: tf.Tensor): TensorFacts | undefined;
  /** Records that `out` is `from` times `factor` (facts scale by factor²; a NaN factor makes them NaN). */
  derive(out: tf.Tensor, from: tf.Tensor, factor: number): void;
}

/** A step context over a table of facts (what `guard` builds from its statistics pass). */
export function createStepContext(
  step: number,
  measured: ReadonlyMap<tf.Tensor, TensorFacts> | (() => ReadonlyMap<tf.Tensor, TensorFacts> | undefined) | undefined,
  loss?: tf.Scalar,
): StepContext {
  // The measured facts are read as they are (a function: fetched on the first read, so a step no stage asks about
  // builds none); only what the stages derive goes into a table of its own, made on the first derivation.
  let table = typeof measured === 'function' ? undefined : measured;
  let fetch = typeof measured === 'function' ? measured : undefined;
  let derived: Map<tf.Tensor, TensorFacts> | undefined;
  const facts = (t: tf.Tensor): TensorFacts | undefined => {
    if (fetch) {
      table = fetch();
      fetch = undefined;
    }
    return table?.get(t) ?? derived?.get(t);
  };
  return {
    step,
    ...(loss !== undefined ? { loss } : {}),
    facts,
    derive(out, from, factor) {
      const f = facts(from);
      if (f === undefined) return;
      (derived ??= new Map()).set(out, { sq: f.sq * factor * factor, nonFinite: Number.isFinite(factor) ? f.nonFinite : out.size });
    },
  };
}

/** Σg² and the non-finite count over a whole gradient map, when the context knows every tensor of it. */
export function hostFacts(context: StepContext | undefined, grads: TensorMap): TensorFacts | undefined {
  if (context === undefined) return undefined;
  let sq = 0;
  let nonFinite = 0;
  for (const g of Object.values(grads)) {
    const f = context.facts(g);
    if (f === undefined) return undefined;
    sq += f.sq;
    nonFinite += f.nonFinite;
  }
  return { sq, nonFinite };
}

/** What `guard` tells `afterApply` about the step. */
export interface ApplyContext {
  /** The learning rate the optimizer just used, when it exposes one. */
  readonly learningRate: number | undefined;
}

/** A stateless transformation's state. */
export type EmptyState = TransformState;

/** Disposes every tensor held in a state (recursively through nested states and arrays). */
export function disposeState(state: unknown): void {
  const seen = new Set<unknown>();
  const walk = (x: unknown): void => {
    if (x == null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (typeof (x as tf.Tensor).dispose === 'function' && 'dataId' in (x as object)) {
      (x as tf.Tensor).dispose();
      return;
    }
    for (const v of Array.isArray(x) ? x : Object.values(x)) walk(v);
  };
  walk(state);
}

/** Disposes the tensors of `out` that are not (by identity) tensors of `kept`. */
export function disposeNew(out: TensorMap, ...kept: TensorMap[]): void {
  const keep = new Set<tf.Tensor>();
  for (const k of kept) for (const t of Object.values(k)) keep.add(t);
  for (const t of Object.values(out)) if (!keep.has(t) && !t.isDisposed) t.dispose();
}

/**
 * Marks every tensor of a state with `tf.keep`, so that a state made inside a `tf.tidy` (as `model.fit` runs each
 * step) survives it. Returns the state. Stateful transformations call it on what `init` and `update` return.
 */
export function keepState<S>(state: S): S {
  const seen = new Set<unknown>();
  const walk = (x: unknown): void => {
    if (x == null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (typeof (x as tf.Tensor).dispose === 'function' && 'dataId' in (x as object)) {
      tf.keep(x as tf.Tensor);
      return;
    }
    for (const v of Array.isArray(x) ? x : Object.values(x)) walk(v);
  };
  walk(state);
  return state;
}
