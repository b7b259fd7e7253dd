import * as tf from '@tensorflow/tfjs-core';

/** `{ name, tensor }`, as tfjs optimizers take gradients in list form (tfjs-core does not export this type). */
type NamedTensor = { name: string; tensor: tf.Tensor };
import {
  GradguardError,
  type LayerLike,
  type LayerMap,
  type Monitor,
  type StepStatistics,
  checkNumber,
  describeValue,
  gradientStatsOnDevice,
  mapVariablesToLayers,
} from '@gradguard/core';
import { type GradientTransformation, type TensorMap, type TransformState, disposeNew, disposeState } from './transformation';

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
}

/** What `guard` returns: a drop-in `tf.Optimizer` that also measures and transforms. */
export interface GuardedOptimizer extends tf.Optimizer {
  /** The optimizer that applies the (transformed) gradients. */
  readonly inner: tf.Optimizer;
  readonly transform: GradientTransformation | undefined;
  readonly monitor: Monitor | undefined;
  /** Optimizer updates applied through this guard so far. */
  readonly step: number;
  /** The statistics of the most recent step read back, if any. */
  readonly latest: StepStatistics | undefined;
  /** Waits until every measured step has been read back and handed to the monitor and listeners. */
  flush(): Promise<void>;
  /** Calls `listener` with each step's statistics; returns an unsubscribe function. */
  onStep(listener: (stats: StepStatistics) => void): () => void;
  /** Tells the guard which model owns the variables (for per-layer statistics and attribution). */
  attach(model: LayerLike): void;
  /** The transformation's current state (read-only; for inspection and tests). */
  readonly transformState: TransformState | undefined;
}

const CLASS_NAME = 'GradguardGuardedOptimizer';
const GUARDED = Symbol.for('gradguard.guarded');

class Guarded extends tf.Optimizer implements GuardedOptimizer {
  static get className(): string {
    return CLASS_NAME;
  }

  readonly [GUARDED] = true;
  readonly inner: tf.Optimizer;
  readonly transform: GradientTransformation | undefined;
  readonly monitor: Monitor | undefined;
  private readonly statsEvery: number;
  private readonly listeners = new Set<(s: StepStatistics) => void>();
  private layerMap: LayerMap | undefined;
  private state: TransformState | undefined;
  private stepCount = 0;
  private latestStats: StepStatistics | undefined;
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(inner: tf.Optimizer, options: GuardOptions) {
    super();
    this.inner = inner;
    this.transform = options.transform;
    this.monitor = options.monitor;
    this.statsEvery = checkNumber('guard', 'statsEvery', options.statsEvery ?? 1, { min: 1, integer: true });
    if (options.onStep) this.listeners.add(options.onStep);
    if (options.model) this.attach(options.model);
  }

  get step(): number {
    return this.stepCount;
  }

  get latest(): StepStatistics | undefined {
    return this.latestStats;
  }

  get transformState(): TransformState | undefined {
    return this.state;
  }

  override get iterations(): number {
    return this.inner.iterations;
  }

  attach(model: LayerLike): void {
    this.layerMap = mapVariablesToLayers(model);
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
    let out = grads;
    if (this.transform) {
      const params = variablesOf(grads);
      if (this.state === undefined) this.state = this.transform.init(params);
      const [transformed, next] = this.transform.update(grads, this.state, params);
      out = transformed;
      this.state = next;
    }
    const measure = this.stepCount % this.statsEvery === 0;
    let pending: ReturnType<typeof gradientStatsOnDevice> | undefined;
    let hasPost = false;
    if (measure) {
      const extra: tf.Tensor[] = [];
      if (out !== grads) {
        hasPost = true;
        extra.push(tf.tidy(() => sumOfSquares(out)));
      }
      if (loss) extra.push(loss);
      pending = gradientStatsOnDevice(grads, { ...(this.layerMap ? { model: this.layerMap } : {}), extra });
      if (hasPost) extra[0]!.dispose();
    }
    try {
      this.inner.applyGradients(out);
    } finally {
      if (out !== grads) disposeNew(out, grads);
    }
    const step = this.stepCount++;
    if (pending) this.enqueue(pending, step, hasPost, loss !== undefined);
  }

  private enqueue(
    pending: ReturnType<typeof gradientStatsOnDevice>,
    step: number,
    hasPost: boolean,
    hasLoss: boolean,
  ): void {
    const learningRate = readLearningRate(this.inner);
    const read = pending.tensor.data().finally(() => pending.tensor.dispose());
    this.queue = this.queue.then(async () => {
      try {
        const values = await read;
        const g = pending.decode(values);
        let o = pending.extraOffset;
        const postSq = hasPost ? values[o++]! : undefined;
        const loss = hasLoss ? values[o++]! : undefined;
        const pre = g.globalNorm;
        const post = postSq === undefined ? pre : Math.sqrt(postSq);
        const scale = postSq === undefined ? 1 : pre === 0 ? 1 : Number.isFinite(pre) ? post / pre : post === 0 ? 0 : Number.NaN;
        const stats: StepStatistics = {
          ...g,
          step,
          ...(loss !== undefined ? { loss } : {}),
          preClipNorm: pre,
          postClipNorm: post,
          scale,
          skipped: post === 0 && pre !== 0,
          ...(learningRate !== undefined ? { learningRate } : {}),
        };
        this.latestStats = stats;
        this.monitor?.observe(stats);
        for (const l of this.listeners) l(stats);
      } catch (e) {
        this.failure ??= e;
      }
    });
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

/** tfjs optimizers keep `learningRate` protected; every built-in one has it as a plain number field. */
export function readLearningRate(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

/**
 * Wraps a tfjs optimizer so every update is measured (per-layer gradient norms, non-finite counts, the pre-clip
 * global norm and the applied scale — all on the device, read back asynchronously in one batch per step), fed to a
 * monitor, and transformed by `options.transform` before the inner optimizer applies it. It is a `tf.Optimizer`, so
 * it goes straight into `model.compile({ optimizer })` and works in custom loops (`minimize` or `applyGradients`).
 *
 * @example
 * const guarded = guard(tf.train.adam(1e-3), { transform: clipByGlobalNorm(1), monitor: createMonitor(), model });
 * model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 5 });
 * await guarded.flush();
 * console.log(guarded.monitor?.diagnoses);
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
  return new Guarded(optimizer, options);
}
