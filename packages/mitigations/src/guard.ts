import * as tf from '@tensorflow/tfjs-core';
import {
  GradguardError,
  type GradientMeter,
  type LayerLike,
  type LayerMap,
  type Monitor,
  type ReadValues,
  type StepStatistics,
  createGradientMeter,
  createReadback,
  mapVariablesToLayers,
  recurrentSpectraOnDevice,
} from '@gradguard/core';
import { type LearningRateControl, lowerOnRestore, readLearningRate, setLearningRate } from './learning-rate';
import { applyStep } from './optimizer-slots';
import { type NonFiniteReplay, type NonFiniteReplayer, createNonFiniteReplayer } from './replay-non-finite';
import { type Rollback, type RollbackEvent, createRollback } from './rollback';
import { type StopPolicy, type TerminateCallback, type TerminateOptions, createStopPolicy } from './stop-policy';

export { terminateOnProblem } from './stop-policy';
import { type GradientTransformation, type TensorMap, type TransformState, createStepContext, disposeNew, disposeState } from './transformation';

import { reportToConsole } from './console-report';
import { checkGuardArguments, withKerasClip } from './guard-arguments';
import { describeModelTo } from './describe-model';
import { optimizerFromName } from './optimizer-names';
import { type GuardCheckpoint, checkpointOf, installGuardRestore } from './checkpoint';
import type { GuardOptions, GuardedOptimizer, NamedTensor } from './guard-types';
import { type MeasureSchedule, createMeasureSchedule } from './schedule';
import { type Pending, postNormSq, readStep, registerStepValues, toMap, variablesOf } from './step-record';

export type { GuardOptions, GuardedOptimizer } from './guard-types';
export type { RollbackEvent, RollbackOptions } from './rollback';
export type { TerminateCallback, TerminateOptions } from './stop-policy';

const CLASS_NAME = 'GradguardGuardedOptimizer';

/** What `model.compile` accepts as an optimizer name (see `OPTIMIZER_NAMES`). */
export type OptimizerName = 'adagrad' | 'adadelta' | 'adam' | 'adamax' | 'rmsprop' | 'sgd' | (string & {});
const GUARDED = Symbol.for('gradguard.guarded');

class Guarded extends tf.Optimizer implements GuardedOptimizer {
  static get className(): string {
    return CLASS_NAME;
  }

  readonly [GUARDED] = true;
  readonly inner: tf.Optimizer;
  readonly transform: GradientTransformation | undefined;
  readonly monitor: Monitor | undefined;
  private readonly schedule: MeasureSchedule;
  private readonly listeners = new Set<(s: StepStatistics) => void>();
  private readonly control: LearningRateControl | undefined;
  private readonly rollback: Rollback | undefined;
  private readonly policy: StopPolicy;
  private readonly replayer: NonFiniteReplayer | undefined;
  private readonly kernel: 'auto' | 'device';
  private meter: GradientMeter;
  private model: LayerLike | undefined;
  private layerMap: LayerMap | undefined;
  private state: TransformState | undefined;
  private stepCount = 0;
  private latestStats: StepStatistics | undefined;
  private latestProbes: Record<string, number> = {};
  private skippedCount = 0;
  private queue: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private failure: unknown;
  private baseRate: number | undefined;
  private unprint: (() => void) | undefined;
  private readonly checkpoint: GuardCheckpoint;

  constructor(inner: tf.Optimizer, options: GuardOptions) {
    super();
    this.inner = inner;
    this.transform = withKerasClip(options);
    this.monitor = options.monitor;
    this.kernel = options.kernel ?? 'auto';
    this.checkpoint = checkpointOf(options);
    this.schedule = createMeasureSchedule(options); // every option was checked by checkGuardArguments
    const rb = options.rollback === true ? {} : options.rollback === false ? undefined : options.rollback;
    this.control = options.learningRate ?? (rb ? lowerOnRestore() : undefined);
    this.rollback = rb && createRollback(rb, inner, this.control!, () => this.stepCount, () => this.baseRate);
    this.policy = createStopPolicy(() => this.flush());
    this.replayer = options.replayNonFiniteOn === undefined ? undefined : createNonFiniteReplayer(options.replayNonFiniteOn, options.onReplay);
    this.meter = this.makeMeter(undefined); // checks the histogram bins now
    if (options.onStep) this.listeners.add(options.onStep);
    if (options.monitor && options.print !== 'none') this.unprint = reportToConsole(options.monitor, options.print ?? 'critical');
    if (options.model) this.attach(options.model);
  }

  get step(): number { return this.stepCount; }
  get latest(): StepStatistics | undefined { return this.latestStats; }
  get probes(): Readonly<Record<string, number>> { return this.latestProbes; }
  get skipped(): number { return this.skippedCount; }
  get rollbacks(): readonly RollbackEvent[] { return this.rollback?.events ?? []; }
  get replays(): readonly NonFiniteReplay[] { return this.replayer?.events ?? []; }
  get problem(): GradguardError | undefined { return this.policy.problem; }
  get transformState(): TransformState | undefined { return this.state; }
  override get iterations(): number { return this.inner.iterations; }

  attach(model: LayerLike): void {
    this.layerMap = mapVariablesToLayers(model);
    const map = this.layerMap;
    describeModelTo(this.monitor, map, () => this.layerMap === map);
    this.model = model;
    this.meter = this.makeMeter(this.layerMap);
  }

  private makeMeter(model: LayerMap | undefined): GradientMeter {
    const histogram = this.schedule.histogramBins;
    return createGradientMeter({ kernel: this.kernel, ...(model ? { model } : {}), ...(histogram ? { histogram } : {}) });
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
    const verdict = this.policy.takeUnreported();
    if (verdict) throw verdict;
  }

  callback(options: TerminateOptions = {}): TerminateCallback { return this.policy.callback(this.model, options); }

  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    try {
      this.guardedStep(grads, value, this.replayer && { f, varList });
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.guardedStep(toMap(variableGradients), undefined);
  }

  /** One step: prepare (measure before the update, transform) → apply (or skip) → read (one readback) → settle. */
  private guardedStep(grads: TensorMap, loss: tf.Scalar | undefined, replay?: { f: () => tf.Scalar; varList: tf.Variable[] | undefined }): void {
    if (this.policy.halt()) return;
    const step = this.stepCount;
    const params = variablesOf(grads);
    const measure = this.schedule.measures(step);
    // On host backends the statistics pass also gives the transforms their facts, so it runs on every transformed
    // step; on device backends only measured steps pay for it.
    const kernel = this.meter.kernel;
    const readback = measure || (this.transform && kernel === 'host') ? createReadback(kernel) : undefined;
    this.rollback?.beforeApply(step, params, readback);
    const extras = measure ? this.schedule.extras(step, this.latestStats, this.monitor) : undefined;
    const measured = readback ? this.meter.measure(grads, readback, 'gradients', { weights: extras?.weights ?? false, histogram: extras?.histogram ?? false }) : undefined;
    let learningRate = readLearningRate(this.inner);
    if (this.control) {
      this.baseRate ??= learningRate!;
      const lr = this.control.rateAt(step, this.baseRate);
      if (lr !== learningRate) setLearningRate(this.inner, lr);
      learningRate = lr;
    }
    const { squarings } = this.schedule;
    const spectra = extras?.spectra && this.layerMap ? recurrentSpectraOnDevice(this.layerMap, squarings !== undefined ? { squarings } : {}) : undefined;
    if (spectra) readback!.add('recurrent', spectra.tensor);
    let out = grads;
    let mask: tf.Tensor | boolean | undefined;
    const context = createStepContext(step, measured && (() => measured.facts), loss);
    try {
      // Before anything is applied: the replay must see the weights this step's gradients were taken at.
      const replayed = replay && this.replayer!.check(step, grads, loss, measured?.facts, replay.f, replay.varList ?? (Object.values(params) as tf.Variable[]));
      if (this.transform) {
        this.state ??= this.transform.init(params);
        [out, this.state] = this.transform.update(grads, this.state, params, context);
        mask = this.transform.shouldApply?.(this.state);
      }
      const post = measure ? postNormSq(out, grads, context, readback!) : undefined;
      if (mask !== false) applyStep(this.inner, out, params, mask, () => this.transform?.afterApply?.(params, this.state!, { learningRate }));
      this.stepCount++;
      if (!measure || !readback || !measured) {
        readback?.dispose();
        return;
      }
      this.rollback?.afterApply(step, params, readback);
      const probeMap = this.transform?.probe?.(this.state!) ?? {};
      registerStepValues(readback, loss, mask, probeMap);
      const pending: Pending = {
        step, measured, spectra, post,
        applied: typeof mask === 'object' ? 'read' : mask !== false,
        probes: Object.keys(probeMap),
        learningRate,
        ...(replayed ? { replay: { verdict: replayed.verdict, backend: replayed.backend, replayedOn: replayed.replayedOn } } : {}),
      };
      if (readback.kind === 'host' && this.inFlight === 0) this.settle(pending, readback.readSync());
      else this.enqueue(pending, readback.read());
    } catch (e) {
      readback?.dispose();
      throw e;
    } finally {
      if (out !== grads) disposeNew(out, grads);
    }
  }

  private enqueue(pending: Pending, read: Promise<ReadValues>): void {
    this.inFlight++;
    this.queue = this.queue.then(async () => {
      try {
        this.settle(pending, await read);
      } catch (e) {
        this.failure ??= e;
      } finally {
        this.inFlight--;
      }
    });
  }

  /** A read-back step: statistics to the listeners (the step record first), then the monitor, then the policies. */
  private settle(p: Pending, values: ReadValues): void {
    try {
      const { stats, probes, loss, applied } = readStep(p, values);
      this.latestStats = stats;
      this.latestProbes = probes;
      if (!applied) this.skippedCount++;
      for (const l of this.listeners) l(stats);
      const diagnoses = this.monitor?.observe(stats) ?? [];
      this.control?.observe(p.step, diagnoses, this.monitor?.active ?? []);
      const limit = this.transform?.check?.(probes, p.step);
      if (limit) this.policy.decide(limit instanceof GradguardError ? limit : new GradguardError('UNRECOVERABLE', limit.message));
      const lossBad = loss !== undefined && !Number.isFinite(loss);
      if (this.rollback) {
        const r = this.rollback.settle({ step: p.step, lossBad, applied, nonFinite: stats.nonFinite, loss }, values);
        if (r instanceof GradguardError) this.policy.decide(r);
      } else if (this.policy.stopping && !this.transform?.shouldApply) {
        const weightsFinite = stats.weightNorm === undefined ? undefined : Number.isFinite(stats.weightNorm);
        this.policy.judgeNonFinite({ step: p.step, loss, gradients: stats.nonFinite, weightsFinite, applied });
      }
    } catch (e) {
      this.failure ??= e;
    }
  }

  /** The inner optimizer's config, plus the guard's own settings under `gradguard` (see `GuardCheckpoint`). */
  getConfig(): tf.serialization.ConfigDict {
    return { ...this.inner.getConfig(), gradguard: this.checkpoint as unknown as tf.serialization.ConfigDict };
  }
  /**
   * The inner optimizer's class: a model saved with `includeOptimizer: true` records the optimizer it really trains
   * with (`Adam` and its config and slots), so `tf.loadLayersModel` restores it without gradguard installed (tfjs
   * reads only the keys it knows) — and guarded again where gradguard is loaded (`installGuardRestore`).
   */
  override getClassName(): string {
    return this.inner.getClassName();
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
    this.rollback?.dispose();
    this.unprint?.();
    this.inner.dispose();
  }
}

/**
 * Wraps a tfjs optimizer so every update is measured (per-layer gradient norms, non-finite counts, the weights before
 * the update, the pre-clip global norm, the applied scale, whether it was skipped and the learning rate), fed to a
 * monitor, transformed by `options.transform` before the inner optimizer applies it, and policed: exact skips
 * (`skipNonFinite`), learning-rate warm-up and back-off, rollback to the last good weights. On cpu, wasm and tfjs-node
 * the statistics are one pass over the buffers where they lie and skips and clips are decided there; on WebGL/WebGPU
 * everything stays on the device with one asynchronous readback per step. It is a `tf.Optimizer`, so it goes straight
 * into `model.compile({ optimizer })` and works in custom loops (`minimize` or `applyGradients`).
 *
 * @example
 * const guarded = guard(tf.train.adam(1e-3), { transform: chain(skipNonFinite(), clipByGlobalNorm(1)), monitor: createMonitor(), model });
 * model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 5, callbacks: [guarded.callback()] });
 */
export function guard(optimizer: tf.Optimizer | OptimizerName, options: GuardOptions = {}): GuardedOptimizer {
  checkGuardArguments(optimizer, options);
  return new Guarded(typeof optimizer === 'string' ? optimizerFromName(optimizer)! : optimizer, options);
}

// Checkpoints saved while guarded reload guarded wherever this module is loaded (checkpoint.ts).
installGuardRestore((inner, options) => new Guarded(inner, options));
