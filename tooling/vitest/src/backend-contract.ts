/**
 * The backend contract: one training step, measured the same way on any tfjs backend, so every adapter proves the same
 * thing (unjs/unstorage's `testDriver` pattern). This file imports nothing but types: it runs in Node under Vitest and
 * in a browser bundle alike. The caller passes its tfjs namespace and gradguard's `gradientStats` and
 * `clipByGlobalNorm`, so this tooling package depends on no workspace library.
 *
 * Tolerance: |actual - cpu| <= CONTRACT_TOLERANCE * (1 + |cpu|) for every number. Measured here: wasm and WebGPU
 * (SwiftShader) agree with cpu to ~1e-6; 1e-4 leaves room for GPU reductions summed in another order.
 */
import type * as TF from '@tensorflow/tfjs';

export const CONTRACT_TOLERANCE = 1e-4;
/** Global-norm bound for the clipping check: below the model's pre-clip norm, so clipping really acts. */
export const CONTRACT_MAX_NORM = 0.05;
export const CONTRACT_STEPS = 3;

/** The gradguard functions the contract exercises, passed in by the adapter's test. */
export interface ContractDeps {
  readonly tf: typeof TF;
  readonly gradientStats: (
    grads: TF.NamedTensorMap,
  ) => Promise<{ globalNorm: number; variables: readonly { name: string; norm: number; maxAbs: number }[] }>;
  readonly clipByGlobalNorm: (maxNorm: number) => {
    init(params: TF.NamedTensorMap): unknown;
    update(grads: TF.NamedTensorMap, state: unknown, params: TF.NamedTensorMap): readonly [TF.NamedTensorMap, unknown];
  };
}

/** Everything one contract run measured; plain numbers, so a browser can send it back as JSON. */
export interface ContractResult {
  readonly backend: string;
  readonly losses: number[];
  /** Per step: the global gradient norm before clipping, from `gradientStats`. */
  readonly globalNorms: number[];
  /** Per step, per variable in model order: L2 norm and max |g| from `gradientStats`. */
  readonly variableNorms: number[][];
  readonly variableMaxAbs: number[][];
  /** Per step: the global norm of the clipped gradients (must equal CONTRACT_MAX_NORM when clipping acts). */
  readonly clippedNorms: number[];
  /** Every weight after the last step, flattened in model order. */
  readonly finalWeights: number[];
  /** `tf.memory().numTensors` after each step minus after the first: 0 when steps leak nothing. */
  readonly stepTensorGrowth: number[];
  /** Tensors left after the run (model and optimizer disposed) minus before it. */
  readonly leakedTensors: number;
  readonly stepMs: number[];
}

/** Deterministic values in [-scale, scale] without a PRNG: identical on every backend and platform. */
function wave(n: number, phase: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sin(1.7 * i + phase) * Math.cos(0.31 * i * phase + 0.5);
  return out;
}

/**
 * Builds the contract model inline (SimpleRNN(4, tanh) over 5 steps of 2 features, then Dense(1)), sets its weights
 * from a fixed formula, and runs CONTRACT_STEPS SGD steps: loss and gradients with `tf.variableGrads`, statistics with
 * `gradientStats`, clipping with `clipByGlobalNorm(CONTRACT_MAX_NORM)`, then `applyGradients`. The active backend
 * must already be `expectedBackend`.
 */
export async function runBackendContract(deps: ContractDeps, expectedBackend: string): Promise<ContractResult> {
  const { tf } = deps;
  if (tf.getBackend() !== expectedBackend) {
    throw new Error(`backend contract: active backend is '${tf.getBackend()}', expected '${expectedBackend}'.`);
  }
  const before = tf.memory().numTensors;
  const model = tf.sequential();
  model.add(tf.layers.simpleRNN({ units: 4, activation: 'tanh', inputShape: [5, 2] }));
  model.add(tf.layers.dense({ units: 1 }));
  const initial = model.getWeights().map((w, i) => tf.tensor(wave(w.size, i + 1, 0.6), w.shape, 'float32'));
  model.setWeights(initial);
  tf.dispose(initial); // the variables now hold their own reference to the data
  const x = tf.tensor(wave(8 * 5 * 2, 7, 1), [8, 5, 2]);
  const y = tf.tensor(wave(8, 11, 1), [8, 1]);
  const optimizer = tf.train.sgd(0.5);
  const clip = deps.clipByGlobalNorm(CONTRACT_MAX_NORM);
  const params: TF.NamedTensorMap = {};
  for (const w of model.trainableWeights) params[(w.read() as TF.Variable).name] = w.read();
  let state = clip.init(params);

  const result: ContractResult = {
    backend: tf.getBackend(),
    losses: [],
    globalNorms: [],
    variableNorms: [],
    variableMaxAbs: [],
    clippedNorms: [],
    finalWeights: [],
    stepTensorGrowth: [],
    leakedTensors: 0,
    stepMs: [],
  };
  let afterFirst = 0;
  for (let step = 0; step < CONTRACT_STEPS; step++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() =>
      tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as TF.Tensor),
    );
    const stats = await deps.gradientStats(grads);
    const [clipped, next] = clip.update(grads, state, params);
    state = next;
    const clippedSq = tf.tidy(() => tf.addN(Object.values(clipped).map((g) => tf.sum(tf.square(g)))));
    const [lossValue, clippedSqValue] = await Promise.all([value.data(), clippedSq.data()]);
    optimizer.applyGradients(clipped);
    tf.dispose([value, clippedSq, grads, clipped]);
    result.stepMs.push(performance.now() - t0);
    result.losses.push(lossValue[0]!);
    result.globalNorms.push(stats.globalNorm);
    result.variableNorms.push(stats.variables.map((v) => v.norm));
    result.variableMaxAbs.push(stats.variables.map((v) => v.maxAbs));
    result.clippedNorms.push(Math.sqrt(clippedSqValue[0]!));
    const now = tf.memory().numTensors;
    if (step === 0) afterFirst = now;
    result.stepTensorGrowth.push(now - afterFirst);
  }
  const flat = tf.tidy(() => tf.concat(model.getWeights().map((w) => tf.reshape(w, [-1]))));
  result.finalWeights.push(...(await flat.data()));
  flat.dispose();
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  (result as { leakedTensors: number }).leakedTensors = tf.memory().numTensors - before;
  return result;
}

/** One number that differs from the reference by more than the tolerance. */
export interface ContractMismatch {
  readonly field: string;
  readonly actual: number;
  readonly expected: number;
}

/** The comparison of a backend's run with the cpu reference. */
export interface ContractComparison {
  readonly mismatches: readonly ContractMismatch[];
  /** Largest |actual - expected| / (1 + |expected|) over every compared number. */
  readonly maxDeviation: number;
  /** Numbers compared. */
  readonly compared: number;
}

const COMPARED = ['losses', 'globalNorms', 'variableNorms', 'variableMaxAbs', 'clippedNorms', 'finalWeights'] as const;

/** Compares every measured number of `actual` with `reference` (the cpu run) within `tolerance`. */
export function compareContractResults(
  actual: ContractResult,
  reference: ContractResult,
  tolerance = CONTRACT_TOLERANCE,
): ContractComparison {
  const mismatches: ContractMismatch[] = [];
  let maxDeviation = 0;
  let compared = 0;
  for (const field of COMPARED) {
    const a = (actual[field] as (number | number[])[]).flat();
    const e = (reference[field] as (number | number[])[]).flat();
    if (a.length !== e.length) {
      mismatches.push({ field: `${field}.length`, actual: a.length, expected: e.length });
      continue;
    }
    for (let i = 0; i < e.length; i++) {
      const dev = Math.abs(a[i]! - e[i]!) / (1 + Math.abs(e[i]!));
      compared++;
      if (!(dev <= tolerance)) mismatches.push({ field: `${field}[${i}]`, actual: a[i]!, expected: e[i]! });
      if (Number.isFinite(dev)) maxDeviation = Math.max(maxDeviation, dev);
      else maxDeviation = Number.POSITIVE_INFINITY;
    }
  }
  return { mismatches, maxDeviation, compared };
}
