/**
 * The soak check: many guarded steps of the tiny spirals MLP with chain(skipNonFinite(), clipByGlobalNorm(1)) and
 * rollback, NaN or Infinity injected into the gradients at random steps. It proves the step leaks no tensor and the run
 * log misses no step, whatever the gradients do.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '@gradguard/models';
import { chain, clipByGlobalNorm, skipNonFinite } from '@gradguard/mitigations';
import { guardedAdam } from './configs';
import { BATCH_SIZE, DISTINCT_BATCHES, getModel } from './models';

/** Chance that a step's loss (and so every gradient) is multiplied by NaN or Infinity. */
export const INJECT_PROBABILITY = 0.02;
/**
 * Steps after which the optimizer's slots, the transformations' state and rollback's snapshots (up to three, one
 * every 50 steps) all exist: tensor growth is counted from here.
 */
export const SETTLED_AFTER = 200;

export interface SoakResult {
  readonly backend: string;
  readonly steps: number;
  /** Steps whose loss was multiplied by NaN or Infinity. */
  readonly injected: number;
  /** Updates guard skipped (non-finite gradients). */
  readonly skipped: number;
  readonly rollbacks: number;
  readonly tensors: {
    readonly beforeRun: number;
    readonly settled: number;
    /** Most tensors alive at a step boundary in the first and in the second half of the steps after settling. */
    readonly peakFirstHalf: number;
    readonly peakSecondHalf: number;
    readonly afterSteps: number;
    readonly afterDispose: number;
  };
  /** afterSteps - settled. Rollback's snapshots come and go (up to three), so this moves by a snapshot's size either way. */
  readonly growth: number;
  /** peakSecondHalf - peakFirstHalf: a leak of even one tensor per thousand steps makes this positive; must be <= 0. */
  readonly peakGrowth: number;
  /** afterDispose - beforeRun: tensors the whole run left behind. */
  readonly leaked: number;
  /** Step records in the JSONL run log: must equal `steps`. */
  readonly loggedSteps: number;
  readonly weightsFinite: boolean;
  readonly seconds: number;
  /** The error that ended the run early, if one did. */
  readonly error?: string;
  readonly ok: boolean;
}

export interface SoakOptions {
  readonly seed?: number;
  /** Chance per step of a poisoned loss; default INJECT_PROBABILITY. */
  readonly probability?: number;
  readonly log?: (line: string) => void;
}

export async function soak(backend: string, steps: number, options: SoakOptions = {}): Promise<SoakResult> {
  if (!Number.isInteger(steps) || steps <= SETTLED_AFTER) throw new Error(`soak: steps must be an integer > ${SETTLED_AFTER}, got ${steps}.`);
  const probability = options.probability ?? INJECT_PROBABILITY;
  const log = options.log ?? (() => {});
  const spec = getModel('spirals');
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-soak-'));
  const logPath = join(dir, 'soak.jsonl');
  const random = createRandom(options.seed ?? 7);
  const beforeRun = tf.memory().numTensors;
  const data = spec.data();
  const batches = Array.from({ length: DISTINCT_BATCHES }, (_, b) => [
    data.xs.slice(b * BATCH_SIZE, BATCH_SIZE),
    data.ys.slice(b * BATCH_SIZE, BATCH_SIZE),
  ] as const);
  tf.dispose([data.xs, data.ys]);
  const model = spec.build();
  const run = guardedAdam({ model, backend, logPath, name: 'soak', transform: chain(skipNonFinite(), clipByGlobalNorm(1)), rollback: true });
  const guarded = run.guarded!;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let injected = 0;
  let settled = Number.NaN;
  let peakFirstHalf = 0;
  let peakSecondHalf = 0;
  const mid = Math.floor((SETTLED_AFTER + steps) / 2);
  let error: string | undefined;
  let done = 0;
  const started = performance.now();
  try {
    for (let step = 0; step < steps; step++) {
      if (step === SETTLED_AFTER) settled = tf.memory().numTensors;
      if (step >= mid) peakSecondHalf = Math.max(peakSecondHalf, tf.memory().numTensors);
      else if (step >= SETTLED_AFTER) peakFirstHalf = Math.max(peakFirstHalf, tf.memory().numTensors);
      const [xb, yb] = batches[step % batches.length]!;
      const poison = random() < probability ? (random() < 0.5 ? Number.NaN : Number.POSITIVE_INFINITY) : 1;
      if (poison !== 1) injected++;
      guarded.minimize(() => tf.tidy(() => {
        const loss = tf.metrics.binaryCrossentropy(yb, model.apply(xb, { training: true }) as tf.Tensor).mean();
        return (poison === 1 ? loss : loss.mul(poison)) as tf.Scalar;
      }), false, vars);
      // As model.fit does between batches: give the step's asynchronous readback a chance to land.
      await guarded.flush();
      done++;
      if ((step + 1) % 1000 === 0) log(`  soak ${backend}: ${step + 1}/${steps} steps, ${tf.memory().numTensors} tensors, ${injected} injected, ${guarded.skipped} skipped`);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  const afterSteps = tf.memory().numTensors;
  const skipped = guarded.skipped;
  const rollbacks = guarded.rollbacks.length;
  const weightsFinite = (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
  const seconds = (performance.now() - started) / 1000;
  await run.close();
  model.dispose();
  tf.dispose(batches.flat());
  const afterDispose = tf.memory().numTensors;
  const loggedSteps = readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => (JSON.parse(l) as { type?: string }).type === 'step').length;
  rmSync(dir, { recursive: true, force: true });
  const growth = afterSteps - settled;
  return {
    backend,
    steps: done,
    injected,
    skipped,
    rollbacks,
    tensors: { beforeRun, settled, peakFirstHalf, peakSecondHalf, afterSteps, afterDispose },
    growth,
    peakGrowth: peakSecondHalf - peakFirstHalf,
    leaked: afterDispose - beforeRun,
    loggedSteps,
    weightsFinite,
    seconds,
    ...(error !== undefined ? { error } : {}),
    ok: error === undefined && done === steps && peakSecondHalf <= peakFirstHalf && afterDispose === beforeRun && loggedSteps === steps && weightsFinite,
  };
}
