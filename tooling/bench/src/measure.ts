/**
 * Measures one backend in this process: for each model, every configuration once as warm-up (with its readbacks
 * counted), then R rounds in which every configuration runs once, in an order that rotates from round to round, so
 * machine drift hits every configuration alike. Each configuration's cost is the median over rounds of its step time
 * divided by the bare step time of the same round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type ConfigName, configure } from './configs';
import { BATCH_SIZE, type BenchModel, repeatToSteps } from './models';
import { countReadbacks } from './readbacks';
import { median, medianInterval } from './stats';

/** Steps at the start of a run left out of its mean (graph set-up, slot creation, first-touch allocations). */
export const SKIPPED_STEPS = 2;
/** A run should take about this long when --steps is not given. */
export const TARGET_RUN_MS = 500;
export const MIN_STEPS = 10;
export const MAX_STEPS = 3000;

export interface RunTiming {
  /** Median ms per step over steps SKIPPED_STEPS+1..steps, plus the final flush divided by those steps. */
  readonly msPerStep: number;
  /** Mean ms per step over the same steps, the final flush included (sensitive to single slow steps). */
  readonly meanMsPerStep: number;
  /**
   * The same as `msPerStep` in this process's CPU time (user + system, all its threads: `process.cpuUsage`): what
   * the step costs the machine, not charged for time other processes hold the cores (wall time is), though their
   * cache and memory traffic still moves it.
   */
  readonly cpuMsPerStep: number;
  /** Final loss (the same for configurations that do the same arithmetic). */
  readonly loss: number;
}

export interface ConfigResult {
  readonly config: ConfigName;
  /** Median over rounds of (step time / bare step time in the same round). */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** A 95 % confidence interval of that median (order statistics: `medianInterval`), and its exact coverage. */
  readonly ratioLow: number;
  readonly ratioHigh: number;
  readonly coverage: number;
  /** The same ratio in process CPU time (see `RunTiming.cpuMsPerStep`). */
  readonly cpuRatio: number;
  readonly cpuRatioMin: number;
  readonly cpuRatioMax: number;
  readonly cpuRatioLow: number;
  readonly cpuRatioHigh: number;
  /** Median ms per step over rounds. */
  readonly msPerStep: number;
  /** Per step, counted in the warm-up run over the steps after the first SKIPPED_STEPS, final flush excluded. */
  readonly readbacksPerStep: { readonly blocking: number; readonly async: number; readonly backendSync: number };
}

export interface ModelResult {
  readonly model: string;
  readonly description: string;
  readonly params: number;
  readonly variables: number;
  readonly steps: number;
  readonly rounds: number;
  readonly bareMsPerStep: number;
  readonly configs: readonly ConfigResult[];
  /** Every round's raw numbers: the order run and each configuration's ms per step. */
  readonly raw: readonly {
    readonly order: readonly ConfigName[];
    readonly msPerStep: Readonly<Partial<Record<ConfigName, number>>>;
    readonly cpuMsPerStep: Readonly<Partial<Record<ConfigName, number>>>;
  }[];
}

export interface MeasureOptions {
  readonly backend: string;
  readonly models: readonly BenchModel[];
  readonly configs: readonly ConfigName[];
  readonly rounds: number;
  /** Steps per run; calibrated per model to about TARGET_RUN_MS of bare training when undefined. */
  readonly steps?: number;
  /** Progress lines (to stderr in the CLI). */
  readonly log?: (line: string) => void;
}

interface Prepared {
  readonly model: BenchModel;
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
  readonly steps: number;
}

/**
 * One run: a fresh model with the seeded weights, trained by `model.fit` for exactly `steps` steps (one epoch over the
 * repeated batch set). Timed from the end of step SKIPPED_STEPS to the end of the configuration's `finish`.
 */
export async function runOnce(
  p: Prepared,
  config: ConfigName,
  backend: string,
  logPath: string,
  countFrom?: () => { stop: () => { blocking: number; async: number; backendSync: number } },
): Promise<RunTiming & { readbacks?: { blocking: number; async: number; backendSync: number } }> {
  const model = p.model.build();
  const run = configure(config, { model, backend, logPath });
  model.compile({ optimizer: run.optimizer, loss: p.model.loss });
  let batches = 0;
  let t0 = Number.NaN;
  let last = Number.NaN;
  const durations: number[] = [];
  const cpuDurations: number[] = [];
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let cpuLast = Number.NaN;
  let counter: ReturnType<NonNullable<typeof countFrom>> | undefined;
  let readbacks: { blocking: number; async: number; backendSync: number } | undefined;
  let loss = Number.NaN;
  try {
    await model.fit(p.xs, p.ys, {
      batchSize: BATCH_SIZE,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'never',
      callbacks: {
        onBatchEnd: (_batch, logs) => {
          batches++;
          const now = performance.now();
          const cpu = cpuNow();
          if (batches > SKIPPED_STEPS) {
            durations.push(now - last);
            cpuDurations.push(cpu - cpuLast);
          }
          last = now;
          cpuLast = cpu;
          if (batches === SKIPPED_STEPS) {
            t0 = performance.now();
            if (countFrom) counter = countFrom();
          }
          if (batches === p.steps) {
            loss = logs?.loss ?? Number.NaN;
            if (counter) readbacks = counter.stop();
          }
        },
      },
    });
    const flushStart = performance.now();
    const flushCpu = cpuNow();
    await run.finish();
    const t1 = performance.now();
    const flushCpuMs = cpuNow() - flushCpu;
    if (batches !== p.steps) throw new Error(`${p.model.id}/${config}: ran ${batches} steps, expected ${p.steps}.`);
    // The median step (robust to a GC pause or a noisy neighbour on a shared machine hitting one step) plus the final
    // flush spread over the run: guard's asynchronous readbacks are part of its cost.
    const counted = p.steps - SKIPPED_STEPS;
    return {
      msPerStep: median(durations) + (t1 - flushStart) / counted,
      meanMsPerStep: (t1 - t0) / counted,
      cpuMsPerStep: median(cpuDurations) + flushCpuMs / counted,
      loss,
      ...(readbacks ? { readbacks } : {}),
    };
  } finally {
    await run.close();
    model.dispose();
  }
}

function prepare(model: BenchModel, steps: number): Prepared {
  const base = model.data();
  const { xs, ys } = repeatToSteps(base, steps);
  tf.dispose([base.xs, base.ys]);
  return { model, xs, ys, steps };
}

/** Rotates `items` left by `k`: round r starts with configuration r, so each one runs first, last and in between. */
export function rotate<T>(items: readonly T[], k: number): T[] {
  const n = items.length;
  return items.map((_, i) => items[(i + k) % n]!);
}

export async function measureModel(model: BenchModel, options: MeasureOptions, dir: string): Promise<ModelResult> {
  const log = options.log ?? (() => {});
  const configs: ConfigName[] = options.configs.includes('bare') ? [...options.configs] : ['bare', ...options.configs];
  let steps = options.steps;
  if (steps === undefined) {
    const probe = prepare(model, MIN_STEPS + SKIPPED_STEPS);
    try {
      await runOnce(probe, 'bare', options.backend, join(dir, 'probe.jsonl'));
      const { msPerStep } = await runOnce(probe, 'bare', options.backend, join(dir, 'probe.jsonl'));
      steps = Math.min(MAX_STEPS, Math.max(MIN_STEPS, Math.round(TARGET_RUN_MS / msPerStep)));
    } finally {
      tf.dispose([probe.xs, probe.ys]);
    }
  }
  if (steps <= SKIPPED_STEPS) throw new Error(`--steps must be more than ${SKIPPED_STEPS} (the first ${SKIPPED_STEPS} steps of a run are not timed).`);
  const p = prepare(model, steps);
  const probeModel = model.build();
  const params = probeModel.countParams();
  const variables = probeModel.trainableWeights.length;
  probeModel.dispose();
  try {
    log(`${options.backend} ${model.id}: ${params} params, ${variables} variables, ${steps} steps per run, ${options.rounds} rounds`);
    const readbacks = {} as Record<ConfigName, ConfigResult['readbacksPerStep']>;
    for (const c of configs) {
      const counted = steps - SKIPPED_STEPS;
      const r = await runOnce(p, c, options.backend, join(dir, `${c}.jsonl`), () => {
        const { counts, stop } = countReadbacks();
        return { stop: () => (stop(), { ...counts }) };
      });
      const rb = r.readbacks ?? { blocking: Number.NaN, async: Number.NaN, backendSync: Number.NaN };
      readbacks[c] = { blocking: rb.blocking / counted, async: rb.async / counted, backendSync: rb.backendSync / counted };
      log(`  warm-up ${c.padEnd(20)} ${r.msPerStep.toFixed(2)} ms/step, loss ${r.loss.toPrecision(6)}`);
    }
    const raw: ModelResult['raw'][number][] = [];
    for (let round = 0; round < options.rounds; round++) {
      const order = rotate(configs, round);
      const msPerStep: Partial<Record<ConfigName, number>> = {};
      const cpuMsPerStep: Partial<Record<ConfigName, number>> = {};
      for (const c of order) {
        const t = await runOnce(p, c, options.backend, join(dir, `${c}.jsonl`));
        msPerStep[c] = t.msPerStep;
        cpuMsPerStep[c] = t.cpuMsPerStep;
      }
      raw.push({ order, msPerStep, cpuMsPerStep });
      log(`  round ${round + 1}/${options.rounds}: ${order.map((c) => `${c} ${msPerStep[c]!.toFixed(2)}`).join(', ')} ms/step`);
    }
    const results = configs.map((c): ConfigResult => {
      const ratios = raw.map((r) => r.msPerStep[c]! / r.msPerStep.bare!);
      const cpuRatios = raw.map((r) => r.cpuMsPerStep[c]! / r.cpuMsPerStep.bare!);
      const interval = medianInterval(ratios);
      const cpuInterval = medianInterval(cpuRatios);
      return {
        config: c,
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        ratioLow: interval.low,
        ratioHigh: interval.high,
        coverage: interval.coverage,
        cpuRatio: median(cpuRatios),
        cpuRatioMin: Math.min(...cpuRatios),
        cpuRatioMax: Math.max(...cpuRatios),
        cpuRatioLow: cpuInterval.low,
        cpuRatioHigh: cpuInterval.high,
        msPerStep: median(raw.map((r) => r.msPerStep[c]!)),
        readbacksPerStep: readbacks[c],
      };
    });
    return {
      model: model.id,
      description: model.description,
      params,
      variables,
      steps,
      rounds: options.rounds,
      bareMsPerStep: median(raw.map((r) => r.msPerStep.bare!)),
      configs: results,
      raw,
    };
  } finally {
    tf.dispose([p.xs, p.ys]);
  }
}

export interface BackendResult {
  readonly backend: string;
  readonly tfjs: string;
  readonly models: readonly ModelResult[];
}

/** Activates `backend` (cpu or wasm) in this process. */
export async function activateBackend(backend: string): Promise<void> {
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} could not be initialized.`);
  await tf.ready();
  if (tf.getBackend() !== backend) throw new Error(`asked for backend ${backend}, got ${tf.getBackend()}.`);
}

/** Every model on the active backend. The run logs go to a temporary folder, removed at the end. */
export async function measureBackend(options: MeasureOptions): Promise<BackendResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-bench-'));
  try {
    const models: ModelResult[] = [];
    for (const m of options.models) models.push(await measureModel(m, options, dir));
    return { backend: options.backend, tfjs: tf.version.tfjs, models };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
