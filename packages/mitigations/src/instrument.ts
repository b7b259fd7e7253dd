import type * as tf from '@tensorflow/tfjs-core';
import { GradguardError, type LayerLike } from '@gradguard/core';
import { installGuard } from './guard-model';
import type { WatchedTraining } from './watch-training';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs methods of every signature are wrapped alike
type Fn = (...args: any[]) => unknown;
type ModelLike = LayerLike & { optimizer?: tf.Optimizer; readonly trainableWeights?: ReadonlyArray<{ read(): object }> };

/** The classes of the tfjs instance a script trains with (`@tensorflow/tfjs-core`'s `Optimizer`, `tfjs-layers`' `LayersModel`). */
export interface InstrumentTargets {
  readonly Optimizer: { readonly prototype: object };
  readonly LayersModel: { readonly prototype: object };
  /** tfjs-layers' `Sequential`, so a Sequential (not its inner LayersModel) is the model of its runs. */
  readonly Sequential?: { readonly prototype: object };
}

export interface InstrumentOptions {
  /**
   * Makes the run of one optimizer, at its first step: usually `watchTraining(optimizer, { model: model(), recorder })`.
   * `model()` is the model that compiled the optimizer, or the one a custom loop's loss function ran — known once
   * that first loss has run, so a recorder should read it lazily.
   */
  readonly watch: (optimizer: tf.Optimizer, model: () => LayerLike | undefined) => WatchedTraining;
}

/** One optimizer the script trained with, guarded. */
export interface InstrumentedRun {
  readonly run: WatchedTraining;
  /** The model it trains, once known. */
  readonly model: LayerLike | undefined;
}

export interface Instrumentation {
  /** Every guarded optimizer, in the order of their first step. */
  readonly runs: readonly InstrumentedRun[];
  /** Puts the original methods back (the guards already installed stay). */
  restore(): void;
}

const GUARDED = Symbol.for('gradguard.guarded');
const INSTRUMENTED = Symbol.for('gradguard.instrumented');

/**
 * Guards every optimizer of a tfjs instance at its first step, without a change to the training script: `model.fit`,
 * `fitDataset` and `trainOnBatch` (through the optimizer `model.compile` set, string names included) and custom loops
 * calling `optimizer.minimize`. It patches the seam tfjs already has — `Optimizer.prototype.minimize`, which every
 * built-in optimizer inherits and which `fit` calls — plus `LayersModel.prototype.compile` (to know which model owns
 * which optimizer) and `predict`/`apply` (to learn the model a custom loop's loss runs). A compiled model gets its
 * guard installed (`model.optimizer`), so later steps and `model.save` go through it directly.
 *
 * Loops that call only `applyGradients` (after `tf.variableGrads`) are not seen: each optimizer class defines its own.
 */
export function instrumentTraining(targets: InstrumentTargets, options: InstrumentOptions): Instrumentation {
  const opt = targets.Optimizer?.prototype as Record<string | symbol, unknown> | undefined;
  const lm = targets.LayersModel?.prototype as Record<string | symbol, unknown> | undefined;
  if (typeof opt?.minimize !== 'function' || typeof lm?.compile !== 'function') {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      "instrumentTraining: expected tfjs-core's Optimizer and tfjs-layers' LayersModel classes (with minimize and compile).",
      'Pass the classes of the tfjs instance the script loads: { Optimizer: tfCore.Optimizer, LayersModel: tfLayers.LayersModel, Sequential: tfLayers.Sequential }.',
    );
  }
  if (opt[INSTRUMENTED] || lm[INSTRUMENTED]) {
    throw new GradguardError('INVALID_ARGUMENT', 'instrumentTraining: this tfjs instance is already instrumented.', 'Instrument it once per process (restore() the previous instrumentation first).');
  }
  const owners = new WeakMap<object, ModelLike>();
  const byOptimizer = new WeakMap<object, { run: WatchedTraining; entry: { run: WatchedTraining; model: LayerLike | undefined } }>();
  const runs: { run: WatchedTraining; model: LayerLike | undefined }[] = [];
  const undo: (() => void)[] = [];
  let touched: Set<ModelLike> | undefined;

  /** Replaces `proto[name]` with `make(original)`; remembers whether it was the prototype's own (to put back exactly). */
  const patch = (proto: Record<string | symbol, unknown>, name: string, make: (original: Fn) => Fn): void => {
    const original = proto[name];
    if (typeof original !== 'function') return;
    const own = Object.prototype.hasOwnProperty.call(proto, name);
    proto[name] = make(original as Fn);
    undo.push(() => {
      if (own) proto[name] = original;
      else delete proto[name];
    });
  };
  // Sequential compiles, predicts and holds its optimizer through an inner LayersModel: patch both, the outer wins.
  for (const proto of [lm, targets.Sequential?.prototype as Record<string | symbol, unknown> | undefined]) {
    if (!proto) continue;
    const isOwn = (k: string): boolean => proto === lm || Object.prototype.hasOwnProperty.call(proto, k);
    if (isOwn('compile')) {
      patch(proto, 'compile', (original) => function compile(this: ModelLike, ...args: unknown[]) {
        const out = original.apply(this, args);
        const o = this.optimizer as (tf.Optimizer & { [GUARDED]?: boolean }) | undefined;
        if (o && !o[GUARDED]) owners.set(o, this);
        return out;
      });
    }
    for (const k of ['predict', 'apply']) {
      if (!isOwn(k)) continue;
      patch(proto, k, (original) => function (this: ModelLike, ...args: unknown[]) {
        touched?.add(this);
        return original.apply(this, args);
      });
    }
  }

  patch(opt, 'minimize', () => function minimize(this: tf.Optimizer, f: () => tf.Scalar, returnCost?: boolean, varList?: tf.Variable[]) {
    const known = byOptimizer.get(this);
    if (known) return known.run.optimizer.minimize(f, returnCost, varList);
    const owner = owners.get(this);
    const entry: { run: WatchedTraining; model: LayerLike | undefined } = { run: undefined as unknown as WatchedTraining, model: owner };
    const run = options.watch(this, () => entry.model);
    entry.run = run;
    byOptimizer.set(this, { run, entry });
    runs.push(entry);
    if (owner) {
      run.optimizer.attach(owner);
      installGuard(owner as ModelLike & { optimizer: tf.Optimizer }, run.optimizer);
      return run.optimizer.minimize(f, returnCost, varList);
    }
    // A custom loop: the model is the one its loss function runs (the largest overlap with the trained variables).
    touched = new Set();
    const learn = (): tf.Scalar => {
      try {
        return f();
      } finally {
        const model = pickModel(touched!, varList);
        touched = undefined;
        if (model) {
          entry.model = model;
          run.optimizer.attach(model);
        }
      }
    };
    return run.optimizer.minimize(learn, returnCost, varList);
  });
  opt[INSTRUMENTED] = true;
  lm[INSTRUMENTED] = true;

  return {
    runs,
    restore() {
      for (const u of undo.splice(0).reverse()) u();
      delete opt[INSTRUMENTED];
      delete lm[INSTRUMENTED];
    },
  };
}

function pickModel(models: ReadonlySet<ModelLike>, varList: readonly tf.Variable[] | undefined): ModelLike | undefined {
  const wanted = varList ? new Set<object>(varList) : undefined;
  let best: ModelLike | undefined;
  let bestScore = 0;
  for (const m of models) {
    const vars = (m.trainableWeights ?? []).map((w) => w.read());
    const score = wanted ? vars.filter((v) => wanted.has(v)).length : vars.length;
    if (score > bestScore) [best, bestScore] = [m, score];
  }
  return best;
}
