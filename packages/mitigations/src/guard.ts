import * as tf from '@tensorflow/tfjs-core';
import {
  GradguardError,
  type Diagnosis,
  type LayerLike,
  type LayerMap,
  type Monitor,
  type StepStatistics,
  checkNumber,
  describeValue,
  formatNumber,
  gradientStatsOnDevice,
  recurrentSpectraOnDevice,
  type PendingSpectra,
  mapVariablesToLayers,
} from '@gradguard/core';
import { type LearningRateControl, controlLearningRate, readLearningRate, setLearningRate } from './learning-rate';
import { type Snapshot, disposeSnapshot, optimizerSlots, takeSnapshot } from './optimizer-slots';
import { type GradientTransformation, type TensorMap, type TransformState, disposeNew, disposeState } from './transformation';

/** `{ name, tensor }`, as tfjs optimizers take gradients in list form (tfjs-core does not export this type). */
type NamedTensor = { name: string; tensor: tf.Tensor };

export interface RollbackOptions {
  /** Keep a snapshot of the weights and optimizer state every this many steps (on measured steps). Default 50. */
  readonly every?: number;
  /** After a restore, the learning rate is multiplied by this for good. Default 0.5. */
  readonly learningRateFactor?: number;
  /** Restores allowed without reaching a newer good snapshot before the run is declared unrecoverable. Default 3. */
  readonly maxRollbacks?: number;
}

export interface GuardOptions {
  /** The transformation applied to every step's gradients. Omit it to only watch (nothing is changed). */
  readonly transform?: GradientTransformation;
  /** Fed every measured step's statistics; its diagnoses arrive asynchronously. */
  readonly monitor?: Monitor;
  /** The model being trained, to attribute variables to layers. Can also be given later with `attach`. */
  readonly model?: LayerLike;
  /** Measure every k-th step only (default 1: every step). Transformations still run on every step. */
  readonly statsEvery?: number;
  /** Called with each step's statistics, in step order, once they are read back. */
  readonly onStep?: (stats: StepStatistics) => void;
  /** Warm-up and back-off of the inner optimizer's learning rate (`controlLearningRate(...)`). Back-off needs `monitor`. */
  readonly learningRate?: LearningRateControl;
  /** Restore the last good weights when the loss or the applied gradients turn non-finite, then go on at a lower rate. */
  readonly rollback?: RollbackOptions | boolean;
  /**
   * Also measure the recurrent kernels' spectral radius and largest singular value (SimpleRNN, LSTM, GRU) on measured
   * steps, in the same read-back, for `detectRecurrentInstability`: those of the weights the step's gradients were
   * computed with (before its update). Needs `model`. Default false. `{ every: k }` measures them on every k-th
   * measured step only: they cost O(units³) per gate (repeated squaring, `squarings` of them, default 12) — on wasm
   * an LSTM(128) step takes ~3.3× as long with spectra as without — and change slowly; `detectRecurrentInstability`
   * keeps the last spectra it saw between measurements.
   */
  readonly recurrent?: boolean | { readonly every?: number; readonly squarings?: number };
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
   * recover: too many skipped steps, rollback exhausted, or — with neither skip nor rollback — NaN/Infinity reaching the
   * weights. While it is installed the guard no longer throws from the step; it turns the remaining steps into no-ops.
   */
  callback(options?: TerminateOptions): TerminateCallback;
}

const CLASS_NAME = 'GradguardGuardedOptimizer';
const GUARDED = Symbol.for('gradguard.guarded');

/** Where each extra scalar of one step's readback sits, after the gradient statistics. */
interface Layout {
  readonly step: number;
  readonly post: boolean;
  readonly loss: boolean;
  readonly applied: boolean;
  readonly snapshot: Snapshot | undefined;
  /** The weights before the first update (rollback only, in `initialPending`) are judged with this (the first) step. */
  readonly initial: boolean;
  /** Recurrent spectra measured before the update (guard's `recurrent`), read back after the probes. */
  readonly spectra: PendingSpectra | undefined;
  readonly probes: readonly string[];
  readonly learningRate: number | undefined;
}

class Guarded extends tf.Optimizer implements GuardedOptimizer {
  static get className(): string {
    return CLASS_NAME;
  }

  readonly [GUARDED] = true;
  readonly inner: tf.Optimizer;
  readonly transform: GradientTransformation | undefined;
  readonly monitor: Monitor | undefined;
  private readonly statsEvery: number;
  private readonly recurrent: { readonly every: number; readonly squarings?: number } | undefined;
  private readonly listeners = new Set<(s: StepStatistics) => void>();
  private readonly control: LearningRateControl | undefined;
  private readonly rollbackEvery: number;
  private readonly rollbackFactor: number;
  private readonly maxRollbacks: number;
  private model: LayerLike | undefined;
  private layerMap: LayerMap | undefined;
  private state: TransformState | undefined;
  private stepCount = 0;
  private latestStats: StepStatistics | undefined;
  private latestProbes: Record<string, number> = {};
  private skippedCount = 0;
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private verdict: GradguardError | undefined;
  private verdictUnreported = false;
  private stopping = false;
  private baseRate: number | undefined;
  /** Good snapshots, oldest first (at most two: a restore that diverges again falls back to the older one). */
  private confirmed: { step: number; snapshot: Snapshot }[] = [];
  /** Snapshots awaiting a verdict; `finite` once their own values were read back finite. */
  private pending = new Map<number, { snapshot: Snapshot; finite: boolean }>();
  /** The weights before the first update, until the first step's read-back judges them. */
  private initialPending: Snapshot | undefined;
  private lastSnapshotStep = Number.NEGATIVE_INFINITY;
  private restoredAt = 0;
  private rollbacksSinceGood = 0;
  /** Consecutive measured steps whose loss was non-finite or whose update was skipped. */
  private troubleStreak = 0;
  private readonly events: RollbackEvent[] = [];

  constructor(inner: tf.Optimizer, options: GuardOptions) {
    super();
    this.inner = inner;
    this.transform = options.transform;
    this.monitor = options.monitor;
    this.statsEvery = checkNumber('guard', 'statsEvery', options.statsEvery ?? 1, { min: 1, integer: true });
    const rec = options.recurrent === true ? {} : options.recurrent || undefined;
    this.recurrent = rec && {
      every: checkNumber('guard', 'recurrent.every', rec.every ?? 1, { min: 1, integer: true }),
      ...(rec.squarings !== undefined ? { squarings: rec.squarings } : {}),
    };
    const rb = options.rollback === true ? {} : options.rollback === false ? undefined : options.rollback;
    this.rollbackEvery = rb ? checkNumber('guard', 'rollback.every', rb.every ?? 50, { min: 1, integer: true }) : 0;
    this.rollbackFactor = checkNumber('guard', 'rollback.learningRateFactor', rb?.learningRateFactor ?? 0.5, { exclusiveMin: 0, max: 1 });
    this.maxRollbacks = checkNumber('guard', 'rollback.maxRollbacks', rb?.maxRollbacks ?? 3, { min: 1, integer: true });
    this.control = options.learningRate ?? (rb ? controlLearningRate() : undefined);
    if (this.control && readLearningRate(inner) === undefined) {
      throw new GradguardError(
        'INVALID_ARGUMENT',
        `guard: learning-rate control and rollback need an optimizer with a numeric learningRate; ${inner.getClassName()} has none.`,
        'Use a built-in tfjs optimizer (sgd, momentum, adam, adamax, adagrad, adadelta, rmsprop), or drop `learningRate` and `rollback`.',
      );
    }
    if (options.onStep) this.listeners.add(options.onStep);
    if (options.model) this.attach(options.model);
  }

  get step(): number {
    return this.stepCount;
  }

  get latest(): StepStatistics | undefined {
    return this.latestStats;
  }

  get probes(): Readonly<Record<string, number>> {
    return this.latestProbes;
  }

  get skipped(): number {
    return this.skippedCount;
  }

  get rollbacks(): readonly RollbackEvent[] {
    return this.events;
  }

  get problem(): GradguardError | undefined {
    return this.verdict;
  }

  get transformState(): TransformState | undefined {
    return this.state;
  }

  override get iterations(): number {
    return this.inner.iterations;
  }

  attach(model: LayerLike): void {
    this.layerMap = mapVariablesToLayers(model);
    this.model = model;
  }

  onStep(listener: (stats: StepStatistics) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async flush(): Promise<void> {
    await this.queue;
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      throw f;
    }
    if (this.verdict && this.verdictUnreported && !this.stopping) {
      this.verdictUnreported = false;
      throw this.verdict;
    }
  }

  callback(options: TerminateOptions = {}): TerminateCallback {
    const model = options.model ?? this.model;
    if (model === undefined) {
      throw new GradguardError(
        'INVALID_ARGUMENT',
        'guard.callback: no model to stop.',
        'Pass it to guard(optimizer, { model }) or to callback({ model }).',
      );
    }
    const onStop = options.onStop ?? ((e: GradguardError) => console.warn(`gradguard: training stopped. ${e.message}`));
    this.stopping = true;
    let reported = false;
    const stopIfNeeded = (): void => {
      if (!this.verdict) return;
      (model as unknown as { stopTraining: boolean }).stopTraining = true;
      if (!reported) {
        reported = true;
        this.verdictUnreported = false;
        onStop(this.verdict);
      }
    };
    return {
      onBatchBegin: async () => stopIfNeeded(),
      onEpochEnd: async () => stopIfNeeded(),
      onTrainEnd: async () => {
        await this.flush();
        stopIfNeeded();
      },
    };
  }

  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    try {
      this.applyMeasured(grads, value);
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.applyMeasured(toMap(variableGradients), undefined);
  }

  private applyMeasured(grads: TensorMap, loss: tf.Scalar | undefined): void {
    if (this.verdict) {
      if (this.stopping) return; // the fit callback stops the run at the next batch boundary
      throw this.verdict;
    }
    const step = this.stepCount;
    const params = variablesOf(grads);
    // The initial weights are the first good snapshot: a run that diverges on its very first updates (a huge initial
    // gradient) can go back to them. Judged like any snapshot, by the step that runs on them (this one).
    const initial =
      this.rollbackEvery > 0 && step === 0 ? takeSnapshot([...(Object.values(params) as tf.Variable[]), ...optimizerSlots(this.inner)]) : undefined;
    let learningRate = readLearningRate(this.inner);
    if (this.control) {
      this.baseRate ??= learningRate!;
      const lr = this.control.rateAt(step, this.baseRate);
      if (lr !== learningRate) setLearningRate(this.inner, lr);
      learningRate = lr;
    }
    let out = grads;
    let mask: tf.Tensor | undefined;
    if (this.transform) {
      if (this.state === undefined) this.state = this.transform.init(params);
      const [transformed, next] = this.transform.update(grads, this.state, params);
      out = transformed;
      this.state = next;
      mask = this.transform.shouldApply?.(next);
    }
    const measure = step % this.statsEvery === 0;
    // The recurrent spectra of the weights this step's gradients were computed with (before the update): they say why
    // these gradients explode or vanish through time.
    const spectra =
      measure && this.recurrent && this.layerMap && (step / this.statsEvery) % this.recurrent.every === 0
        ? recurrentSpectraOnDevice(this.layerMap, this.recurrent.squarings !== undefined ? { squarings: this.recurrent.squarings } : {})
        : undefined;
    const postSq = measure && out !== grads ? tf.tidy(() => sumOfSquares(out)) : undefined;
    try {
      const before = mask ? takeSnapshot([...(Object.values(params) as tf.Variable[]), ...optimizerSlots(this.inner)]) : undefined;
      this.inner.applyGradients(out);
      this.transform?.afterApply?.(params, this.state!, { learningRate });
      if (before && mask) {
        // The exact skip: every variable the step touched goes back to its old value unless the step was allowed.
        // Slots created by this very step saw all-zero gradients, which leaves them at their initial value.
        const ok = mask;
        tf.tidy(() => {
          for (const [v, old] of before) v.assign(tf.where(ok, v, old));
        });
        disposeSnapshot(before);
      }
    } catch (e) {
      postSq?.dispose();
      spectra?.tensor.dispose();
      throw e;
    } finally {
      if (out !== grads) disposeNew(out, grads);
    }
    this.stepCount++;
    if (!measure) {
      if (initial) disposeSnapshot(initial); // step 0 is always measured (0 % k === 0); kept for safety
      return;
    }
    this.initialPending = initial ?? this.initialPending;
    let snapshot: Snapshot | undefined;
    if (this.rollbackEvery > 0 && step - this.lastSnapshotStep >= this.rollbackEvery) {
      snapshot = takeSnapshot([...(Object.values(params) as tf.Variable[]), ...optimizerSlots(this.inner)]);
      this.lastSnapshotStep = step;
      this.pending.set(step, { snapshot, finite: false });
    }
    const probeMap = this.transform?.probe?.(this.state!) ?? {};
    const probes = Object.keys(probeMap);
    const extra: tf.Tensor[] = [];
    if (postSq) extra.push(postSq);
    if (loss) extra.push(loss);
    const appliedFlag = mask ? tf.cast(mask, 'float32') : undefined;
    if (appliedFlag) extra.push(appliedFlag);
    const finiteFlag = snapshot ? tf.tidy(() => allFinite(snapshot.map(([, t]) => t))) : undefined;
    if (finiteFlag) extra.push(finiteFlag);
    const initialFlag = initial ? tf.tidy(() => allFinite(initial.map(([, t]) => t))) : undefined;
    if (initialFlag) extra.push(initialFlag);
    for (const k of probes) extra.push(probeMap[k]!);
    // Extras are read as scalars: the spectra go in entry by entry, in order, so `decode` reads them contiguously.
    const spectraEntries = spectra && spectra.tensor.size > 0 ? tf.unstack(spectra.tensor) : [];
    extra.push(...spectraEntries);
    const pending = gradientStatsOnDevice(grads, { ...(this.layerMap ? { model: this.layerMap } : {}), extra });
    tf.dispose([postSq, appliedFlag, finiteFlag, initialFlag, spectra?.tensor, ...spectraEntries].filter((t): t is tf.Tensor => t !== undefined));
    this.enqueue(pending, {
      step,
      post: postSq !== undefined,
      loss: loss !== undefined,
      applied: appliedFlag !== undefined,
      snapshot,
      initial: initial !== undefined,
      spectra,
      probes,
      learningRate,
    });
  }

  private enqueue(pending: ReturnType<typeof gradientStatsOnDevice>, layout: Layout): void {
    // model.fit runs the step inside tf.tidy: keep the stats tensor alive until its (possibly asynchronous) read ends.
    const read = tf.keep(pending.tensor).data().finally(() => pending.tensor.dispose());
    this.queue = this.queue.then(async () => {
      try {
        const values = await read;
        this.receive(pending.decode(values), values, pending.extraOffset, layout);
      } catch (e) {
        this.failure ??= e;
      }
    });
  }

  private receive(g: ReturnType<ReturnType<typeof gradientStatsOnDevice>['decode']>, values: ArrayLike<number>, offset: number, layout: Layout): void {
    let o = offset;
    const postSq = layout.post ? values[o++]! : undefined;
    const loss = layout.loss ? values[o++]! : undefined;
    const applied = layout.applied ? values[o++]! === 1 : true;
    const snapshotFinite = layout.snapshot ? values[o++]! === 1 : undefined;
    const initialFinite = layout.initial ? values[o++]! === 1 : undefined;
    const probes: Record<string, number> = {};
    for (const k of layout.probes) probes[k] = values[o++]!;
    const recurrent = layout.spectra?.decode(values, o);
    const pre = g.globalNorm;
    const post = !applied ? 0 : postSq === undefined ? pre : Math.sqrt(postSq);
    const scale = postSq === undefined && applied ? 1 : pre === 0 ? 1 : Number.isFinite(pre) ? post / pre : post === 0 ? 0 : Number.NaN;
    const stats: StepStatistics = {
      ...g,
      step: layout.step,
      ...(loss !== undefined ? { loss } : {}),
      preClipNorm: pre,
      postClipNorm: post,
      scale,
      skipped: !applied,
      ...(recurrent ? { recurrent } : {}),
      ...(layout.learningRate !== undefined ? { learningRate: layout.learningRate } : {}),
    };
    this.latestStats = stats;
    this.latestProbes = probes;
    if (!applied) this.skippedCount++;
    const diagnoses: readonly Diagnosis[] = this.monitor?.observe(stats) ?? [];
    this.control?.observe(layout.step, diagnoses, this.monitor?.active ?? []);
    for (const l of this.listeners) l(stats);

    const limit = this.transform?.check?.(probes, layout.step);
    if (limit) this.decide(limit instanceof GradguardError ? limit : new GradguardError('UNRECOVERABLE', limit.message));

    const lossBad = loss !== undefined && !Number.isFinite(loss);
    const appliedBad = applied && g.nonFinite > 0;
    if (layout.initial && this.initialPending) {
      // This step's loss and gradients were computed on the initial weights: they are good if all of that is finite.
      const initial = this.initialPending;
      this.initialPending = undefined;
      if (initialFinite === true && !lossBad && g.nonFinite === 0) {
        this.confirmed.unshift({ step: -1, snapshot: initial });
        if (this.confirmed.length > 2) disposeSnapshot(this.confirmed.shift()!.snapshot);
      } else disposeSnapshot(initial);
    }
    this.settleSnapshots(layout.step, snapshotFinite === true && !appliedBad, lossBad || appliedBad);
    // Steps that ran before a restore reached them report the abandoned weights: they count for nothing.
    if (layout.step >= this.restoredAt) this.troubleStreak = lossBad || !applied ? this.troubleStreak + 1 : 0;
    if (this.rollbackEvery > 0) {
      // A single skipped step is a bad batch that the skip already handled; two in a row point at the weights.
      const diverged = appliedBad || (lossBad && applied) || this.troubleStreak >= 2;
      if (diverged && layout.step >= this.restoredAt) {
        this.restore(layout.step, lossBad ? `the loss is ${loss}` : `${g.nonFinite} NaN/Infinity gradient entries were ${applied ? 'applied' : 'met'}`);
        this.troubleStreak = 0;
      }
    } else if (this.stopping && applied && (lossBad || appliedBad) && !this.transform?.shouldApply) {
      this.decide(
        new GradguardError(
          'UNRECOVERABLE',
          `At step ${layout.step} ${lossBad ? `the loss is ${loss}` : `${g.nonFinite} gradient entries are NaN/Infinity`} and nothing can undo it: the weights are no longer finite.`,
          'Clip the gradients (clipByGlobalNorm(1)), skip bad steps with chain(skipNonFinite(), ...), enable rollback in guard(...), or lower the learning rate.',
        ),
      );
    }
  }

  /**
   * A snapshot taken after step k is good when its own values are finite (read back with step k) AND the next
   * measured step, which ran on those weights, neither lost a finite loss nor applied non-finite gradients: weights
   * can be finite yet already too large to survive one more step.
   */
  private settleSnapshots(step: number, ownFinite: boolean, bad: boolean): void {
    for (const [k, p] of [...this.pending]) {
      if (k === step) {
        if (ownFinite) p.finite = true;
        else this.dropPending(k);
      } else if (k < step && p.finite) {
        if (bad) {
          this.dropPending(k);
          continue;
        }
        this.pending.delete(k);
        this.confirmed.push({ step: k, snapshot: p.snapshot });
        if (this.confirmed.length > 2) disposeSnapshot(this.confirmed.shift()!.snapshot);
        this.rollbacksSinceGood = 0;
      }
    }
  }

  private dropPending(k: number): void {
    const p = this.pending.get(k);
    if (p) disposeSnapshot(p.snapshot);
    this.pending.delete(k);
  }

  private restore(detectedAt: number, why: string): void {
    const fix = 'Lower the base learning rate, clip the gradients (clipByGlobalNorm(1) or adaptiveGradClip(0.01)), or check the data for NaN.';
    if (this.confirmed.length === 0) {
      this.decide(new GradguardError('UNRECOVERABLE', `rollback: at step ${detectedAt} ${why}, and no good snapshot has been kept yet to go back to.`, fix));
      return;
    }
    if (this.rollbacksSinceGood >= this.maxRollbacks) {
      this.decide(
        new GradguardError(
          'UNRECOVERABLE',
          `rollback: at step ${detectedAt} ${why} again; the last good weights were restored ${this.rollbacksSinceGood} times and the run diverged each time, down to learning rate ${formatNumber(readLearningRate(this.inner) ?? Number.NaN)}.`,
          fix,
        ),
      );
      return;
    }
    // Diverging again right after a restore means the newest snapshot was already doomed: go one further back.
    if (this.rollbacksSinceGood > 0 && this.confirmed.length > 1) disposeSnapshot(this.confirmed.pop()!.snapshot);
    const target = this.confirmed.at(-1)!;
    for (const [v, saved] of target.snapshot) if (!v.isDisposed) v.assign(saved);
    // Optimizer slots made after the snapshot (lazily, by the first update of each weight) go back to their initial value.
    const saved = new Set(target.snapshot.map(([v]) => v));
    const slotStart = initialSlotValue(this.inner);
    tf.tidy(() => {
      for (const v of optimizerSlots(this.inner)) if (!saved.has(v) && !v.isDisposed) v.assign(tf.fill(v.shape, slotStart, v.dtype));
    });
    for (const k of [...this.pending.keys()]) this.dropPending(k);
    this.control!.lower(this.rollbackFactor);
    this.restoredAt = this.stepCount;
    this.lastSnapshotStep = this.stepCount - 1; // the next snapshot comes `every` steps after the restore
    this.rollbacksSinceGood++;
    const lr = this.baseRate !== undefined ? this.control!.rateAt(Number.MAX_SAFE_INTEGER, this.baseRate) : undefined;
    this.events.push({ detectedAt, restoredTo: target.step, resumedAt: this.stepCount, learningRate: lr });
  }

  private decide(e: GradguardError): void {
    if (this.verdict) return;
    this.verdict = e;
    this.verdictUnreported = true;
  }

  getConfig(): tf.serialization.ConfigDict {
    return this.inner.getConfig();
  }

  override getClassName(): string {
    return CLASS_NAME;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    return this.inner.setWeights(weightValues);
  }

  override dispose(): void {
    if (this.state !== undefined) disposeState(this.state);
    this.state = undefined;
    for (const c of this.confirmed) disposeSnapshot(c.snapshot);
    this.confirmed = [];
    if (this.initialPending) disposeSnapshot(this.initialPending);
    this.initialPending = undefined;
    for (const k of [...this.pending.keys()]) this.dropPending(k);
    this.inner.dispose();
  }
}

function toMap(grads: tf.NamedTensorMap | NamedTensor[]): TensorMap {
  if (!Array.isArray(grads)) return grads;
  const map: TensorMap = {};
  for (const { name, tensor } of grads) map[name] = tensor;
  return map;
}

/** The live variables behind a gradient map (tfjs registers every variable with the engine by name). */
function variablesOf(grads: TensorMap): TensorMap {
  const registered = tf.engine().registeredVariables;
  const params: TensorMap = {};
  for (const name of Object.keys(grads)) {
    const v = registered[name];
    if (v) params[name] = v;
  }
  return params;
}

function sumOfSquares(m: TensorMap): tf.Scalar {
  const names = Object.keys(m);
  return names.length === 0 ? tf.scalar(0) : (tf.addN(names.map((n) => tf.sum(tf.square(m[n]!)))) as tf.Scalar);
}

/** 1 when every entry of every tensor is finite, else 0 (float32 scalar). */
/** The value tfjs's built-in optimizers start their lazily made slots at: 0, except Adagrad's accumulator. */
function initialSlotValue(optimizer: tf.Optimizer): number {
  const v = (optimizer as unknown as { initialAccumulatorValue?: unknown }).initialAccumulatorValue;
  return optimizer.getClassName() === 'Adagrad' && typeof v === 'number' ? v : 0;
}

function allFinite(ts: readonly tf.Tensor[]): tf.Scalar {
  if (ts.length === 0) return tf.scalar(1);
  return tf.cast(ts.map((t) => tf.all(tf.isFinite(t))).reduce((a, b) => tf.logicalAnd(a, b)), 'float32') as tf.Scalar;
}



/**
 * Wraps a tfjs optimizer so every update is measured (per-layer gradient norms, non-finite counts, the pre-clip
 * global norm, the applied scale, whether it was skipped and the learning rate — all on the device, read back
 * asynchronously in one batch per step), fed to a monitor, transformed by `options.transform` before the inner
 * optimizer applies it, and policed: exact skips (`skipNonFinite`), learning-rate warm-up and back-off, rollback to
 * the last good weights. It is a `tf.Optimizer`, so it goes straight into `model.compile({ optimizer })` and works in
 * custom loops (`minimize` or `applyGradients`).
 *
 * @example
 * const guarded = guard(tf.train.adam(1e-3), { transform: chain(skipNonFinite(), clipByGlobalNorm(1)), monitor: createMonitor(), model });
 * model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 5, callbacks: [guarded.callback()] });
 */
export function guard(optimizer: tf.Optimizer, options: GuardOptions = {}): GuardedOptimizer {
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `guard: expected a tf.Optimizer, got ${describeValue(optimizer)}.`,
      typeof optimizer === 'string'
        ? `Make the optimizer first, e.g. guard(tf.train.${optimizer}(0.01)).`
        : 'Pass an optimizer such as tf.train.adam(1e-3). If you passed one, two copies of @tensorflow/tfjs-core may be installed: dedupe them.',
    );
  }
  // tf.Optimizer's Symbol.hasInstance is duck-typed (to survive duplicate tfjs copies), so `instanceof Guarded` would
  // match every optimizer: check the brand instead.
  if ((optimizer as Partial<Guarded>)[GUARDED] === true) {
    throw new GradguardError('INVALID_ARGUMENT', 'guard: the optimizer is already guarded.', 'Chain transformations with chain(...) instead of guarding twice.');
  }
  if (options.learningRate?.needsMonitor && options.monitor === undefined) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      'guard: learning-rate back-off reacts to diagnoses, but no monitor was given.',
      'Pass one: guard(optimizer, { monitor: createMonitor(), learningRate }), or drop `backoff`.',
    );
  }
  return new Guarded(optimizer, options);
}

/** The `model.fit` callback of a guarded optimizer: `callbacks: [terminateOnProblem(guarded)]`. Same as `guarded.callback()`. */
export function terminateOnProblem(guarded: GuardedOptimizer, options?: TerminateOptions): TerminateCallback {
  if ((guarded as Partial<Guarded> | undefined)?.[GUARDED] !== true) {
    throw new GradguardError(
      'INVALID_ARGUMENT',
      `terminateOnProblem: expected the optimizer returned by guard(...), got ${describeValue(guarded)}.`,
      'Wrap the optimizer first: const guarded = guard(tf.train.adam(1e-3), { model, transform }).',
    );
  }
  return guarded.callback(options);
}
