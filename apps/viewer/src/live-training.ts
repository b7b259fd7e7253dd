import * as tf from '@tensorflow/tfjs';
import type { EndRecord, RunLog } from '@gradguard/core/run-log';
import { type GradientTransformation, clipByGlobalNorm, watchTraining } from '@gradguard/mitigations';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { createJsonlSink, createMemorySink, createRecorder } from '@gradguard/reporter';

/**
 * The CLI demo's setup, shrunk for a browser on a software GPU: the same seeded SimpleRNN(32, relu) with an orthogonal
 * recurrent kernel of gain 1.5 and SGD lr 0.1 on the adding problem, at T = 30 instead of 50. Unguarded, its gradients
 * reach ~1e5 at step 0 and NaN at step 1; clipped to global norm 1 the same model stays finite.
 */
export const LIVE_SETUP = {
  model: 'SimpleRNN(32, relu), orthogonal recurrent kernel with gain 1.5',
  task: 'adding problem, T = 30',
  sequenceLength: 30,
  units: 32,
  recurrentGain: 1.5,
  batchSize: 32,
  batches: 10,
  optimizer: 'sgd',
  learningRate: 0.1,
  maxNorm: 1,
  seed: 1,
  steps: 40,
} as const;

export type LiveStatus = 'waiting' | 'running' | 'completed' | 'stopped' | 'failed';

/** One of the two runs of the live demo: its run log as it grows, and its JSONL text. */
export interface LiveRun {
  readonly label: 'unguarded' | 'guarded';
  readonly transform: string;
  /** The run log recorded so far, in run-log form (what a `.jsonl` file of this run would parse to). */
  readonly log: RunLog;
  readonly status: LiveStatus;
  readonly reason: string | undefined;
  /** The run log as JSONL, line by line, exactly as the CLI would write it. */
  readonly jsonl: readonly string[];
  /** Mean wall time of a step (compute, one readback, and the monitor), in ms. */
  readonly msPerStep: number;
}

export interface LiveOptions {
  readonly steps?: number;
  readonly backend: string;
  /** Called after every step (of both runs) with the runs' state. */
  readonly onUpdate: (runs: readonly LiveRun[]) => void;
}

export interface LiveSession {
  readonly runs: readonly LiveRun[];
  /** Asks the loop to stop after the current step. */
  stop(): void;
  /** Resolves when both runs have ended and every tensor the session made is disposed. */
  readonly done: Promise<void>;
}

interface MutableRun {
  label: 'unguarded' | 'guarded';
  transform: string;
  readonly log: RunLog;
  status: LiveStatus;
  reason: string | undefined;
  jsonl: string[];
  msPerStep: number;
}

/**
 * Trains the demo model twice, step by step and interleaved — unguarded and guarded by `clipByGlobalNorm` — through
 * `guard` with the monitor's default detectors, recording each run with the reporter's recorder (a JSONL sink and
 * `createMemorySink`). A run whose loss or gradients turn non-finite is stopped, as the CLI does: its weights are
 * lost. Yields to the browser after every step (`tf.nextFrame`), so the page stays responsive.
 */
export function startLiveTraining(options: LiveOptions): LiveSession {
  const s = LIVE_SETUP;
  const steps = options.steps ?? s.steps;
  let stopRequested = false;
  const data = addingProblem({ sequenceLength: s.sequenceLength, samples: s.batchSize * s.batches, seed: s.seed });
  const batches = Array.from({ length: s.batches }, (_, i) =>
    tf.tidy(() => [
      data.xs.slice([i * s.batchSize, 0, 0], [s.batchSize, s.sequenceLength, 2]),
      data.ys.slice([i * s.batchSize, 0], [s.batchSize, 1]),
    ]),
  );
  tf.dispose([data.xs, data.ys]);

  const { maxNorm: _maxNorm, ...withoutMaxNorm } = s;
  const runs = (['unguarded', 'guarded'] as const).map((label) => {
    const transform: GradientTransformation | undefined = label === 'guarded' ? clipByGlobalNorm(s.maxNorm) : undefined;
    const model = buildSimpleRnn({ sequenceLength: s.sequenceLength, units: s.units, recurrentGain: s.recurrentGain, seed: s.seed });
    const memory = createMemorySink();
    const run: MutableRun = {
      label,
      transform: transform ? `clipByGlobalNorm(${s.maxNorm})` : 'none',
      get log() {
        return memory.log;
      },
      status: 'waiting',
      reason: undefined,
      jsonl: [],
      msPerStep: 0,
    };
    const recorder = createRecorder({
      name: `live-${label}`,
      sinks: [memory, createJsonlSink((line) => run.jsonl.push(line))],
      model,
      backend: options.backend,
      // The clip bound goes only into the guarded run's config: readers (clipBoundOf) take a maxNorm there as the bound.
      config: { ...withoutMaxNorm, ...(transform ? { maxNorm: s.maxNorm } : {}), steps, transform: run.transform, where: 'browser' },
    });
    // The one run wiring the CLI and autopilot use too: guard + monitor + recorder + stop at the first NaN.
    const watched = watchTraining(tf.train.sgd(s.learningRate), { model, recorder, stopOnNonFinite: true, ...(transform ? { transform } : {}) });
    return { run, model, optimizer: watched.optimizer, watched, elapsed: 0 };
  });

  const finish = async (r: (typeof runs)[number], status: EndRecord['status'], reason?: string): Promise<void> => {
    if (r.run.status !== 'running' && r.run.status !== 'waiting') return;
    r.run.status = status;
    r.run.reason = reason;
    await r.watched.end(status === 'failed' ? 'failed' : 'completed', reason ? { reason } : {});
  };

  const loop = async (): Promise<void> => {
    try {
      for (const r of runs) r.run.status = 'running';
      for (let step = 0; step < steps && !stopRequested; step++) {
        const active = runs.filter((r) => r.run.status === 'running');
        if (active.length === 0) break;
        for (const r of active) {
          const [xb, yb] = batches[step % batches.length]!;
          const t0 = performance.now();
          try {
            r.optimizer.minimize(() => tf.losses.meanSquaredError(yb!, r.model.apply(xb!, { training: true }) as tf.Tensor) as tf.Scalar);
            await r.optimizer.flush();
          } catch (e) {
            await finish(r, 'failed', (e as Error).message);
            continue;
          }
          r.elapsed += performance.now() - t0;
          r.run.msPerStep = r.elapsed / r.run.log.steps.length;
          const why = r.watched.stopReason;
          if (why !== undefined) await finish(r, 'stopped', why);
        }
        options.onUpdate(runs.map((r) => r.run));
        await tf.nextFrame();
      }
      for (const r of runs) await finish(r, stopRequested ? 'stopped' : 'completed', stopRequested ? 'stopped from the page' : undefined);
    } finally {
      for (const r of runs) {
        await r.watched.end('failed', { reason: 'ended' }); // a no-op when finish already ended it
        r.optimizer.dispose();
        r.model.dispose();
      }
      tf.dispose(batches.flat());
      options.onUpdate(runs.map((r) => r.run));
    }
  };

  return {
    runs: runs.map((r) => r.run),
    stop: () => {
      stopRequested = true;
    },
    done: loop(),
  };
}
