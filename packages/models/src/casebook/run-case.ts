import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelOptionError } from '../errors';
import { createRandom, randomInt } from '../random';
import { EVAL_SEED_OFFSET } from '../run-scenario';
import { accuracy } from '../task';
import { buildCaseModel, createCaseOptimizer } from './build';
import type { Case, CaseOutcome } from './case';
import { generateCaseData } from './data';

export interface RunCaseOptions {
  /** Seeds the initial weights, the training data and (offset by EVAL_SEED_OFFSET) the held-out data. */
  readonly seed: number;
  /**
   * Wraps the case's optimizer before `compile`, e.g. `(opt, { optimizer }) => guard(opt, { model, clipnorm:
   * optimizer.clipnorm })`. Required when the case's optimizer has `clipnorm` or `clipvalue` (tfjs optimizers have no
   * such argument). The runner disposes both.
   */
  readonly optimizerFactory?: (optimizer: tf.Optimizer, context: { readonly case: Case; readonly model: LayersModel }) => tf.Optimizer;
  /** Called after every step (awaited); return 'stop' to end training. */
  readonly onStep?: (info: { readonly step: number; readonly loss: number }) => void | 'stop' | Promise<void | 'stop'>;
  /** Stop at the first non-finite loss. Default true. */
  readonly stopOnNonFinite?: boolean;
}

export interface CaseRun {
  readonly case: string;
  readonly seed: number;
  readonly losses: readonly number[];
  readonly stepsRun: number;
  /** 1-based step of the first non-finite loss, or null. */
  readonly nanStep: number | null;
  /** 1-based step at which the loss first reached twice the first step's loss (or turned non-finite), or null. */
  readonly divergenceStep: number | null;
  /** The criterion's metric on held-out data (NaN when the predictions are not finite). */
  readonly metric: number;
  readonly passed: boolean;
  readonly outcome: CaseOutcome;
  /** `onStep` returned 'stop'. */
  readonly stopped: boolean;
  readonly durationMs: number;
}

/** Optimizer steps a case trains for: ⌈trainSamples / batchSize⌉ per epoch. */
export function caseSteps(c: Pick<Case, 'trainSamples' | 'batchSize' | 'epochs'>): number {
  return Math.ceil(c.trainSamples / c.batchSize) * c.epochs;
}

/** The loss reached twice its first value, or turned non-finite: a divergence any user sees on the loss curve. */
export function divergenceStepOf(losses: readonly number[]): number | null {
  const first = losses[0];
  for (let i = 0; i < losses.length; i++) {
    const l = losses[i]!;
    if (!Number.isFinite(l) || (first !== undefined && Number.isFinite(first) && l >= 2 * first && i > 0)) return i + 1;
  }
  return null;
}

/**
 * Trains a case as its source did — its layers, optimizer, loss, batch size and epochs (batches in a seeded order per
 * epoch, as `fit` shuffles) — through `trainOnBatch`, so every step goes through `optimizer.minimize` (where a guard
 * wraps), then judges the criterion on held-out data. Leaves no tensor behind.
 */
export async function runCase(c: Case, options: RunCaseOptions): Promise<CaseRun> {
  const started = performance.now();
  const { seed } = options;
  if ((c.optimizer.clipnorm !== undefined || c.optimizer.clipvalue !== undefined) && !options.optimizerFactory) {
    throw new ModelOptionError(
      `runCase: ${c.name} asks for clipnorm/clipvalue, which tfjs optimizers do not take; pass optimizerFactory that clips (e.g. gradguard's guard(opt, { clipnorm })).`,
    );
  }
  const model = buildCaseModel(c, seed);
  const base = createCaseOptimizer(c.optimizer);
  let optimizer = base;
  const train = generateCaseData(c.data, c.trainSamples, seed);
  const batches = toBatches(train.x, train.xShape, train.y, train.yShape, c.batchSize);
  const losses: number[] = [];
  let nanStep: number | null = null;
  let stopped = false;
  try {
    optimizer = options.optimizerFactory ? options.optimizerFactory(base, { case: c, model }) : base;
    model.compile({ optimizer, loss: c.loss });
    const order = createRandom(seed * 31 + 7);
    let step = 0;
    training: for (let epoch = 0; epoch < c.epochs; epoch++) {
      const perm = batches.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = randomInt(order, i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      for (const b of perm) {
        const [xb, yb] = batches[b]!;
        const loss = (await model.trainOnBatch(xb, yb)) as number;
        step++;
        losses.push(loss);
        if (!Number.isFinite(loss) && nanStep === null) nanStep = step;
        if ((await options.onStep?.({ step, loss })) === 'stop') {
          stopped = true;
          break training;
        }
        if (nanStep !== null && (options.stopOnNonFinite ?? true)) break training;
      }
    }
    const metric = await evaluateCase(c, model, seed + EVAL_SEED_OFFSET);
    const higherIsBetter = c.criterion.metric === 'accuracy' || c.criterion.metric === 'r2';
    const passed = Number.isFinite(metric) && (higherIsBetter ? metric >= c.criterion.threshold : metric <= c.criterion.threshold);
    const divergenceStep = divergenceStepOf(losses);
    const outcome: CaseOutcome = nanStep !== null ? 'nan' : passed ? 'learns' : divergenceStep !== null ? 'diverges' : 'stalls';
    return {
      case: c.name,
      seed,
      losses,
      stepsRun: losses.length,
      nanStep,
      divergenceStep,
      metric,
      passed,
      outcome,
      stopped,
      durationMs: performance.now() - started,
    };
  } finally {
    tf.dispose(batches.flat());
    if (optimizer !== base) optimizer.dispose();
    base.dispose();
    disposeMomentumRate(base);
    model.dispose();
  }
}

/**
 * tfjs 4.22's MomentumOptimizer.dispose overrides SGD's without calling it, so SGD's learning-rate scalar (`c`) leaks
 * one tensor per optimizer (measured: create + dispose leaves 1 tensor). Dispose it here.
 */
function disposeMomentumRate(optimizer: tf.Optimizer): void {
  if (optimizer.getClassName() !== 'Momentum') return;
  const c = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (c && !c.isDisposed) c.dispose();
}

/** The case's criterion metric of a trained model on `testSamples` held-out examples drawn from `seed`. */
export async function evaluateCase(c: Case, model: LayersModel, seed: number): Promise<number> {
  const test = generateCaseData(c.data, c.testSamples, seed);
  const xs = tf.tensor(test.x, [...test.xShape]);
  const ys = tf.tensor(test.y, [...test.yShape]);
  const predictions = model.predict(xs, { batchSize: 256 }) as tf.Tensor;
  try {
    if (c.criterion.metric === 'accuracy') return await accuracy(predictions, ys);
    const err = tf.tidy(() => {
      const d = tf.sub(predictions, ys);
      if (c.criterion.metric === 'mae') return tf.mean(tf.abs(d));
      const mse = tf.mean(tf.square(d));
      return c.criterion.metric === 'mse' ? mse : tf.sub(1, tf.div(mse, tf.moments(ys).variance));
    });
    const [v] = await err.data();
    err.dispose();
    return v!;
  } finally {
    tf.dispose([xs, ys, predictions]);
  }
}

function toBatches(x: Float32Array, xShape: readonly number[], y: Float32Array, yShape: readonly number[], batchSize: number): [tf.Tensor, tf.Tensor][] {
  const n = xShape[0]!;
  const xRow = x.length / n;
  const yRow = y.length / n;
  const out: [tf.Tensor, tf.Tensor][] = [];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    out.push([
      tf.tensor(x.subarray(start * xRow, (start + size) * xRow), [size, ...xShape.slice(1)]),
      tf.tensor(y.subarray(start * yRow, (start + size) * yRow), [size, ...yShape.slice(1)]),
    ]);
  }
  return out;
}
