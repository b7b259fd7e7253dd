import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildModel } from './model-spec';
import { createOptimizer } from './optimizer-spec';
import type { Scenario } from './scenario';
import { type TaskEvaluation, evaluateModel } from './task';
import { createTask } from './task-spec';

/** Seed offset of the held-out evaluation data, so it never overlaps the training data. */
export const EVAL_SEED_OFFSET = 7919;

export interface StepInfo {
  /** 1-based step number. */
  readonly step: number;
  /** The training loss of this step's batch (including kernel penalties). */
  readonly loss: number;
  readonly model: LayersModel;
}

export interface RunScenarioOptions {
  /**
   * Wraps or replaces the scenario's optimizer before training, e.g. `(opt, { model }) => guard(opt, { model,
   * transform: clipByGlobalNorm(1) })`. The runner disposes both the optimizer it made and the one returned.
   */
  readonly optimizerFactory?: (optimizer: tf.Optimizer, context: { readonly scenario: Scenario; readonly model: LayersModel }) => tf.Optimizer;
  /** Called after every step (awaited); return 'stop' to end training early. */
  readonly onStep?: (info: StepInfo) => void | 'stop' | Promise<void | 'stop'>;
  /** Stop at the first non-finite loss (nothing useful follows a NaN). Default true. */
  readonly stopOnNonFinite?: boolean;
  /** Return the trained model instead of disposing it; the caller then owns (and disposes) it. Default false. */
  readonly keepModel?: boolean;
}

export interface ScenarioResult {
  readonly name: string;
  /** One loss per step run. */
  readonly losses: readonly number[];
  readonly stepsRun: number;
  /** Every loss was finite. */
  readonly finite: boolean;
  /** 1-based step of the first non-finite loss, or null. */
  readonly firstNonFiniteStep: number | null;
  /** Stopped early by `onStep` returning 'stop'. */
  readonly stopped: boolean;
  /** The task criterion on held-out data. */
  readonly evaluation: TaskEvaluation;
  readonly durationMs: number;
  /** Present only with `keepModel: true`. */
  readonly model?: LayersModel;
}

/**
 * Builds a scenario's model and data from its seed and trains it with `trainOnBatch` (so kernel penalties and batch
 * norm's training mode apply, and every step goes through `optimizer.minimize`, the seam a guard wraps). Returns the
 * losses, whether they stayed finite, and the task criterion on held-out data. Leaves no tensor behind.
 */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const started = performance.now();
  const task = createTask(scenario.task);
  const model = buildModel(scenario.model, task, scenario.seed);
  const base = createOptimizer(scenario.optimizer);
  let optimizer = base;
  const train = task.generate(scenario.samples, scenario.seed);
  const batches = splitBatches(train.xs, train.ys, scenario.batchSize);
  tf.dispose([train.xs, train.ys]);
  const losses: number[] = [];
  let firstNonFiniteStep: number | null = null;
  let stopped = false;
  try {
    optimizer = options.optimizerFactory ? options.optimizerFactory(base, { scenario, model }) : base;
    model.compile({ optimizer, loss: task.loss });
    for (let step = 1; step <= scenario.steps; step++) {
      const [xb, yb] = batches[(step - 1) % batches.length]!;
      const loss = (await model.trainOnBatch(xb, yb)) as number;
      losses.push(loss);
      if (!Number.isFinite(loss) && firstNonFiniteStep === null) firstNonFiniteStep = step;
      if ((await options.onStep?.({ step, loss, model })) === 'stop') {
        stopped = true;
        break;
      }
      if (firstNonFiniteStep !== null && (options.stopOnNonFinite ?? true)) break;
    }
    const test = task.generate(scenario.evalSamples, scenario.seed + EVAL_SEED_OFFSET);
    let evaluation: TaskEvaluation;
    try {
      evaluation = await evaluateModel(task, model, test);
    } finally {
      tf.dispose([test.xs, test.ys]);
    }
    return {
      name: scenario.name,
      losses,
      stepsRun: losses.length,
      finite: firstNonFiniteStep === null,
      firstNonFiniteStep,
      stopped,
      evaluation,
      durationMs: performance.now() - started,
      ...(options.keepModel ? { model } : {}),
    };
  } finally {
    tf.dispose(batches.flat());
    // Disposing twice is a no-op in tfjs, so a wrapper that already disposed its inner optimizer is fine.
    if (optimizer !== base) optimizer.dispose();
    base.dispose();
    if (!options.keepModel) model.dispose();
  }
}

function splitBatches(xs: tf.Tensor, ys: tf.Tensor, batchSize: number): [tf.Tensor, tf.Tensor][] {
  const n = xs.shape[0]!;
  const out: [tf.Tensor, tf.Tensor][] = [];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    out.push([sliceRows(xs, start, size), sliceRows(ys, start, size)]);
  }
  return out;
}

function sliceRows(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0));
  const sizes = t.shape.map((d, i) => (i === 0 ? size : d));
  return tf.slice(t, begin, sizes);
}
