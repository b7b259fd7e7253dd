/**
 * The benchmark models. Every one is built from a seed, so each configuration trains a fresh model whose initial
 * weights are bit-identical to every other configuration's: the configurations differ only in what the optimizer does.
 */
import * as tf from '@tensorflow/tfjs';
import { buildMlp, buildModel, buildRecurrent, createRandom, createTask, getScenario, randomNormal } from '@gradguard/models';

export const BATCH_SIZE = 32;
/** Distinct batches in the fixed data set; a run cycles through them (the same data in every round). */
export const DISTINCT_BATCHES = 8;

export interface BenchModel {
  readonly id: string;
  readonly description: string;
  /** A fresh model with the seeded initial weights. */
  build(): tf.LayersModel;
  /** The fixed data set: DISTINCT_BATCHES batches of BATCH_SIZE samples. */
  data(): { xs: tf.Tensor; ys: tf.Tensor };
  readonly loss: string;
}

const SEED = 1;

/** Seeded N(0, 1) inputs and one-hot targets over `classes` classes. */
function classification(shape: readonly number[], classes: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const n = BATCH_SIZE * DISTINCT_BATCHES;
  const random = createRandom(SEED + 100);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = randomNormal(random);
  const labels = Int32Array.from({ length: n }, () => Math.floor(random() * classes));
  return { xs: tf.tensor(x, [n, ...shape]), ys: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat()) };
}

/** Seeded N(0, 1) sequences and one regression target (the sum of the first feature). */
function regression(sequenceLength: number, features: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const n = BATCH_SIZE * DISTINCT_BATCHES;
  const random = createRandom(SEED + 200);
  const x = new Float32Array(n * sequenceLength * features);
  for (let i = 0; i < x.length; i++) x[i] = randomNormal(random);
  const y = new Float32Array(n);
  for (let s = 0; s < n; s++) for (let t = 0; t < sequenceLength; t++) y[s]! += x[(s * sequenceLength + t) * features]! / sequenceLength;
  return { xs: tf.tensor3d(x, [n, sequenceLength, features]), ys: tf.tensor2d(y, [n, 1]) };
}

function mlp(id: string, depth: number, width: number): BenchModel {
  return {
    id,
    description: `${depth} × Dense(${width}, relu) + Dense(10, softmax), categorical cross-entropy, batch ${BATCH_SIZE}`,
    build: () => buildMlp({ inputs: width, depth, width, activation: 'relu', outputs: 10, outputActivation: 'softmax', seed: SEED }),
    data: () => classification([width], 10),
    loss: 'categoricalCrossentropy',
  };
}

function recurrent(id: string, cell: 'simple-rnn' | 'lstm', label: string): BenchModel {
  const sequenceLength = 50;
  const features = 8;
  return {
    id,
    description: `${label}(32) over ${sequenceLength} time steps, ${features} features, + Dense(1), MSE, batch ${BATCH_SIZE}`,
    build: () => buildRecurrent({ cell, units: 32, sequenceLength, features, outputs: 1, outputActivation: 'linear', seed: SEED }),
    data: () => regression(sequenceLength, features),
    loss: 'meanSquaredError',
  };
}

/** The zoo's `healthy-mlp-spirals` model and data, exactly as the scenario builds them. */
function spirals(): BenchModel {
  const scenario = getScenario('healthy-mlp-spirals');
  const task = createTask(scenario.task);
  const spec = scenario.model;
  return {
    id: 'spirals',
    description: `the healthy-mlp-spirals scenario's MLP (${spec.kind === 'mlp' ? `${spec.depth} × Dense(${spec.width}, ${spec.activation})` : spec.kind}), ${task.loss}, batch ${scenario.batchSize}`,
    build: () => buildModel(spec, task, scenario.seed),
    data: () => {
      const d = task.generate(BATCH_SIZE * DISTINCT_BATCHES, scenario.seed);
      return { xs: d.xs, ys: d.ys };
    },
    loss: task.loss,
  };
}

export const MODELS: readonly BenchModel[] = [
  mlp('mlp-20x64', 20, 64),
  mlp('mlp-6x256', 6, 256),
  spirals(),
  recurrent('rnn-32x50', 'simple-rnn', 'SimpleRNN'),
  recurrent('lstm-32x50', 'lstm', 'LSTM'),
];

export function getModel(id: string): BenchModel {
  const m = MODELS.find((x) => x.id === id);
  if (!m) throw new Error(`unknown model ${JSON.stringify(id)}; choose from ${MODELS.map((x) => x.id).join(', ')}.`);
  return m;
}

/** The data repeated to exactly `steps` batches, so one epoch of `model.fit` is one run of `steps` steps. */
export function repeatToSteps(data: { xs: tf.Tensor; ys: tf.Tensor }, steps: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const n = steps * BATCH_SIZE;
  const reps = Math.ceil(n / data.xs.shape[0]!);
  const tileTo = (t: tf.Tensor): tf.Tensor =>
    tf.tidy(() => tf.tile(t, [reps, ...t.shape.slice(1).map(() => 1)]).slice(0, n));
  return { xs: tileTo(data.xs), ys: tileTo(data.ys) };
}
