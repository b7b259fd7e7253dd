import * as tf from '@tensorflow/tfjs';
import { GradguardError, formatNumber as fmt } from '@gradguard/core';
import { type RunSink, createMemorySink, table } from '@gradguard/reporter';
import { createTensorBoardSink, writeHtmlReport } from '@gradguard/reporter/node';
import type { BackendReport } from '../backend';
import { toJson } from '../json';
import { EXIT, RunFailedError, UsageError } from '../errors';
import { type MitigationFlags, buildMitigations } from '../mitigation-flags';
import { classifyRun, outcomeLine } from '../outcome';
import { ensureParentDir } from '../paths';
import { trainRun } from '../run';
import { type Activation, type ModelName, type OptimizerName, type TaskName, buildModel, buildOptimizer, buildTask, defaultActivation } from '../zoo';

export interface TrainOptions extends MitigationFlags {
  readonly model: ModelName;
  readonly task: TaskName;
  readonly seqLen: number;
  readonly units: number;
  readonly activation?: Activation;
  readonly recurrentGain: number;
  /** Hidden layers; default 1 for recurrent models, 4 for the MLP. */
  readonly depth?: number;
  readonly batchNorm?: boolean;
  readonly samples: number;
  readonly epochs: number;
  readonly steps?: number;
  readonly batch: number;
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly seed: number;
  readonly log?: string;
  readonly html?: string;
  readonly tensorboard?: string;
  /** With `tensorboard`: steps between per-layer gradient and weight histograms (default 10; step 0 is one). */
  readonly histogramEvery?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
  /** Keep training after the loss turns NaN (commander's --no-stop). */
  readonly stop: boolean;
  /** Exit 3 instead of 0 when problems were found and the mitigations held (for CI that fails on any warning). */
  readonly strict?: boolean;
}

/**
 * Trains one model with the chosen optimizer and mitigations, watching every step; writes the run log, HTML report
 * and TensorBoard events asked for. Exit code (see `classifyRun`): 0 healthy, or problems found and handled by the
 * mitigations (3 with `--strict`); 1 when the run failed (non-finite, stopped, a mitigation gave up, a crash) or a
 * problem went unhandled.
 */
export async function train(o: TrainOptions, backend: BackendReport): Promise<number> {
  const m = buildMitigations(o);
  const batchesPerEpoch = Math.ceil(o.samples / o.batch);
  const epochs = o.steps !== undefined ? Math.ceil(o.steps / batchesPerEpoch) : o.epochs;
  const task = buildTask(o.task, o.seqLen, o.model);
  const depth = o.depth ?? (o.model === 'mlp' ? 4 : 1);
  const model = buildModel({ model: o.model, units: o.units, activation: o.activation, recurrentGain: o.recurrentGain, depth, batchNorm: !!o.batchNorm }, task, o.seed);
  const data = task.generate(o.samples, o.seed);
  const memory = createMemorySink();
  const sinks: RunSink[] = [memory];
  let tensorboard: ReturnType<typeof createTensorBoardSink> | undefined;
  const histogramEvery = o.histogramEvery ?? 10;
  if (o.tensorboard) sinks.push((tensorboard = createTensorBoardSink(o.tensorboard, { weights: () => layerWeights(model), histogramEvery })));
  if (o.log) ensureParentDir(o.log);
  if (o.html) ensureParentDir(o.html);
  const name = `${o.model}-${o.task}`;
  const live = !o.json && !o.quiet;
  const config = {
    model: o.model,
    task: o.task,
    inputShape: task.inputShape,
    units: o.units,
    depth,
    activation: o.activation ?? defaultActivation(o.model),
    ...(o.model === 'mlp' ? {} : { recurrentGain: o.recurrentGain }),
    batchNorm: !!o.batchNorm,
    samples: o.samples,
    batchSize: o.batch,
    optimizer: o.optimizer,
    learningRate: o.lr,
    seed: o.seed,
    transform: m.description,
    ...(o.clipGlobalNorm !== undefined ? { clipGlobalNorm: o.clipGlobalNorm } : {}),
  };
  if (live) {
    process.stderr.write(`gradguard train — ${o.model} on ${o.task} (input [${task.inputShape.join(', ')}]), ${o.optimizer} lr ${o.lr}, batch ${o.batch}, mitigations: ${m.description}, seed ${o.seed}, backend ${backend.name}\n`);
  }
  let result;
  try {
    result = await trainRun({
      label: 'train',
      name,
      model,
      xs: data.xs,
      ys: data.ys,
      optimizer: buildOptimizer(o.optimizer, o.lr),
      ...(m.transform ? { transform: m.transform } : {}),
      ...(m.learningRate ? { learningRate: m.learningRate } : {}),
      rollback: m.rollback,
      loss: task.loss,
      epochs,
      batchSize: o.batch,
      backend: backend.name,
      config,
      ...(o.log ? { logPath: o.log } : {}),
      console: live,
      stopOnNonFinite: o.stop && !o.skipNonFinite && !m.rollback,
      extraSinks: sinks,
      ...(o.tensorboard ? { histogramEvery } : {}),
      ...(o.steps !== undefined ? { maxSteps: o.steps } : {}),
    });
  } catch (e) {
    model.dispose();
    tf.dispose([data.xs, data.ys]);
    // A mitigation that gives up (rollback without a good snapshot, too many skipped steps) ends the run: the run
    // log already holds its `failed` end record. That is a finding about the training, not a usage error.
    if (e instanceof GradguardError && (e.code === 'UNRECOVERABLE' || e.code === 'NON_FINITE_LIMIT')) {
      if (o.html) writeHtmlReport(o.html, memory.log);
      const message = e.hint ? e.message.slice(0, e.message.length - e.hint.length).trimEnd() : e.message;
      if (o.json) {
        process.stdout.write(toJson({ backend: backend.name, config, failed: true, code: e.code, reason: message, hint: e.hint ?? null, healthy: false, outcome: 'failed', exitCode: EXIT.problems, steps: memory.log.steps.length, files: { log: o.log ?? null, html: o.html ?? null, tensorboard: tensorboard?.path ?? null } }));
      } else {
        process.stdout.write(`training stopped after ${memory.log.steps.length} steps: ${message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}\n${outcomeLine('failed', EXIT.problems)}\n`);
      }
      return EXIT.problems;
    }
    // Flags and inputs are checked before the first step (exit 2); anything else thrown mid-training is a failed run.
    if (e instanceof UsageError || e instanceof GradguardError) throw e;
    throw new RunFailedError(`training failed after ${memory.log.steps.length} steps: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  const predictions = model.predict(data.xs) as tf.Tensor;
  const evaluation = await task.evaluate(predictions, data);
  predictions.dispose();
  model.dispose();
  tf.dispose([data.xs, data.ys]);
  if (o.html) writeHtmlReport(o.html, memory.log);
  const problems = result.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info');
  const { outcome, code } = classifyRun(
    {
      completed: !result.stoppedEarly,
      weightsFinite: result.weightsFinite,
      finalLoss: result.finalLoss,
      firstNonFiniteStep: result.firstNonFiniteStep,
      guarded: m.transform !== undefined || m.learningRate !== undefined || m.rollback,
      problems: problems.length,
    },
    !!o.strict,
  );
  const healthy = outcome === 'healthy';
  if (o.json) {
    const out = {
      backend: backend.name,
      config,
      steps: result.steps,
      stoppedEarly: result.stoppedEarly,
      reason: result.reason ?? null,
      firstNonFiniteStep: result.firstNonFiniteStep,
      finalLoss: result.finalLoss,
      evaluation: { metric: evaluation.metric, value: evaluation.value, threshold: evaluation.threshold, baseline: evaluation.baseline, passed: evaluation.passed },
      maxPreClipNorm: result.maxPreClipNorm,
      clippedSteps: result.clippedSteps,
      weightsFinite: result.weightsFinite,
      healthy,
      outcome,
      exitCode: code,
      diagnoses: result.diagnoses.map((d) => ({ step: d.step, problem: d.problem, severity: d.severity, phase: d.phase, layer: d.layer ?? null, message: d.message })),
      files: { log: o.log ?? null, html: o.html ?? null, tensorboard: tensorboard?.path ?? null },
      seconds: result.seconds,
    };
    process.stdout.write(toJson(out));
  } else {
    const rows: (string | number)[][] = [
      ['steps', `${result.steps}${result.stoppedEarly ? ` (stopped: ${result.reason})` : ''}`],
      ['first non-finite step', result.firstNonFiniteStep ?? '—'],
      ['largest pre-clip ‖g‖', fmt(result.maxPreClipNorm)],
      ['steps clipped', `${result.clippedSteps} of ${result.steps}`],
      ['final training loss', fmt(result.finalLoss)],
      [`training ${evaluation.metric}`, `${fmt(evaluation.value)} (baseline ${fmt(evaluation.baseline)}, solved ${evaluation.metric === 'mse' ? 'below' : 'at'} ${fmt(evaluation.threshold)})`],
      ['weights finite', result.weightsFinite ? 'yes' : 'no'],
      ['problems diagnosed', problems.length === 0 ? 'none' : problems.map((d) => `${d.problem} (${d.severity}, step ${d.step})`).join(', ')],
    ];
    if (o.log) rows.push(['run log', o.log]);
    if (o.html) rows.push(['HTML report', o.html]);
    if (tensorboard?.path) rows.push(['TensorBoard', `${tensorboard.path}  (histograms every ${histogramEvery} steps; tensorboard --logdir ${o.tensorboard})`]);
    const lines = [table(['', name], rows)];
    const cause = problems.find((d) => d.severity === 'critical') ?? problems[0];
    if (cause) lines.push('', `Diagnosis: ${cause.message}`, `Fix: ${cause.advice[0]?.detail ?? ''}`);
    lines.push('', outcomeLine(outcome, code));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return code;
}

/**
 * Each layer's current weights, all its variables' values in one array, for the TensorBoard sink's `weights/<layer>`
 * histograms. The sink asks synchronously, on its histogram steps only (every `--histogram-every` steps).
 */
function layerWeights(model: tf.LayersModel): { layer: string; values: Float32Array }[] {
  return model.layers
    .filter((l) => l.weights.length > 0)
    .map((l) => {
      // eslint-disable-next-line no-restricted-properties -- the sink's hook is synchronous and runs on histogram steps only
      const parts = l.weights.map((w) => w.read().dataSync() as Float32Array);
      const values = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) values.set(p, (at += p.length) - p.length);
      return { layer: l.name, values };
    });
}
