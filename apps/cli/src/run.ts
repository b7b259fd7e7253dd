import * as tf from '@tensorflow/tfjs';
import { type Diagnosis, type StepStatistics, checkModelSupport, findRecurrentKernels } from '@gradguard/core';
import { type GradientTransformation, type LearningRateControl, watchTraining } from '@gradguard/mitigations';
import { type RunSink, createRecorder } from '@gradguard/reporter';
import { createConsoleSink, createJsonlFileSink } from '@gradguard/reporter/node';
import { UsageError } from './errors';

export interface TrainRunOptions {
  readonly label: string;
  readonly name: string;
  readonly model: tf.LayersModel;
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
  readonly optimizer: tf.Optimizer;
  readonly transform?: GradientTransformation;
  readonly loss: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly backend: string;
  readonly config: Record<string, unknown>;
  /** JSONL run-log path; none when undefined. */
  readonly logPath?: string;
  /** Show the live console view (on stderr). */
  readonly console: boolean;
  /** End the run cleanly once the loss or the weights are no longer finite (there is nothing left to learn). */
  readonly stopOnNonFinite: boolean;
  readonly extraSinks?: readonly RunSink[];
  /** Stop after this many optimizer steps (batches), even mid-epoch. */
  readonly maxSteps?: number;
  /** Learning-rate warm-up / back-off, passed to `guard`. */
  readonly learningRate?: LearningRateControl;
  /** Restore the last good weights on divergence (guard's rollback). */
  readonly rollback?: boolean;
  /** Per-layer gradient histograms in the step records every this many steps (guard's `histogram`), for TensorBoard. */
  readonly histogramEvery?: number;
}

export interface TrainRunResult {
  readonly steps: number;
  readonly stoppedEarly: boolean;
  readonly reason?: string;
  readonly losses: readonly number[];
  readonly finalLoss: number;
  readonly firstNonFiniteStep: number | null;
  readonly maxPreClipNorm: number;
  readonly clippedSteps: number;
  readonly diagnoses: readonly Diagnosis[];
  readonly weightsFinite: boolean;
  readonly seconds: number;
}

/**
 * Trains `model` with `model.fit` through a guarded optimizer, with the monitor's default detectors, recording every
 * step to the console and a JSONL log. This is the path `demo`, `train` and `bench` share.
 */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  // A layer whose gradient kernels the backend lacks would fail at the first step with tfjs' "Kernel ... not
  // registered": say which layer, before anything is written.
  const support = checkModelSupport(o.model, o.backend);
  if (!support.supported) throw new UsageError(support.message, 'Choose another backend with --backend (cpu trains every layer).');
  const samples = o.xs.shape[0]!;
  const totalSteps = Math.min(o.epochs * Math.ceil(samples / o.batchSize), o.maxSteps ?? Number.POSITIVE_INFINITY);
  const sinks: RunSink[] = [...(o.extraSinks ?? [])];
  if (o.console) sinks.push(createConsoleSink({ totalSteps, label: o.label }));
  if (o.logPath) sinks.push(createJsonlFileSink(o.logPath));
  const recorder = createRecorder({ name: o.name, sinks, model: o.model, backend: o.backend, config: o.config });
  // The one run wiring (guard + monitor + recorder + stop policy) the CLI, autopilot and the viewer share.
  const run = watchTraining(o.optimizer, {
    model: o.model,
    recorder,
    stopOnNonFinite: o.stopOnNonFinite,
    ...(o.transform ? { transform: o.transform } : {}),
    ...(o.learningRate ? { learningRate: o.learningRate } : {}),
    ...(o.rollback ? { rollback: true } : {}),
    ...(o.histogramEvery !== undefined ? { histogram: { every: o.histogramEvery } } : {}),
    // Recurrent kernels' spectra (why gradients explode or vanish through time) every 10th step: they change slowly
    // and cost O(units³) per gate.
    ...(findRecurrentKernels(o.model).length > 0 ? { recurrent: { every: 10 } } : {}),
  });
  const guarded = run.optimizer;
  const losses: number[] = [];
  let maxPreClipNorm = 0;
  let clippedSteps = 0;
  const offStats = guarded.onStep((s: StepStatistics) => {
    if (s.loss !== undefined) losses.push(s.loss);
    if (Number.isFinite(s.preClipNorm)) maxPreClipNorm = Math.max(maxPreClipNorm, s.preClipNorm);
    if (s.scale < 1) clippedSteps++;
  });
  o.model.compile({ optimizer: guarded, loss: o.loss });
  const started = performance.now();
  try {
    await o.model.fit(o.xs, o.ys, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: run.fitCallbacks(o.model, o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    });
    await run.flush();
  } catch (e) {
    offStats();
    await run.end('failed', { reason: (e as Error).message });
    throw e;
  }
  offStats();
  const reason = run.stopReason;
  const seconds = (performance.now() - started) / 1000;
  const weightsFinite = (await Promise.all(o.model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
  const finalLoss = losses.at(-1) ?? Number.NaN;
  await run.end('completed', { finalLoss });
  return {
    steps: guarded.step,
    stoppedEarly: reason !== undefined,
    ...(reason ? { reason } : {}),
    losses,
    finalLoss,
    firstNonFiniteStep: run.firstNonFiniteStep,
    maxPreClipNorm,
    clippedSteps,
    diagnoses: [...run.monitor.diagnoses],
    weightsFinite,
    seconds,
  };
}

/** Mean squared error of the model on held-out data, read once at the end (not in a training step). */
export async function evaluateMse(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): Promise<number> {
  const mse = tf.tidy(() => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor));
  const [v] = await mse.data();
  mse.dispose();
  return v!;
}
