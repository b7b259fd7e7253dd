import * as tf from '@tensorflow/tfjs';
import { createRandom, randomNormal } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import type { Diagnosis } from './run-log/diagnosis';
import { additionData, additionRnn, crossEntropy } from './test/addition-rnn';
import { train } from './test/train';

// Issue 13's detection checks on real tfjs models, trained with tf.variableGrads (as guard measures: weights before
// each update) and the default detectors, over several seeds.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const serious = (ds: readonly Diagnosis[]): Diagnosis[] => ds.filter((d) => d.severity !== 'info' && d.phase !== 'recovery');
const show = (ds: readonly Diagnosis[]): string[] => ds.map((d) => `${d.step} ${d.severity} ${d.problem}${d.layer ? ` ${d.layer}` : ''}${process.env.SHOW ? ` ${d.detector} ${d.message}` : ''}`);

function optimizer(name: 'adam' | 'rmsprop', lr: number): tf.Optimizer {
  return name === 'adam' ? tf.train.adam(lr) : tf.train.rmsprop(lr);
}

async function runAddition(name: 'adam' | 'rmsprop', lr: number, seed: number, steps: number) {
  const tensorsBefore = tf.memory().numTensors;
  const data = additionData(512, 2, seed);
  const model = additionRnn(2, 32, seed * 10);
  const opt = optimizer(name, lr);
  const monitor = createMonitor();
  const stats = await train({ model, xs: data.xs, ys: data.ys, optimizer: opt, steps, batchSize: 64, monitor, loss: crossEntropy });
  tf.dispose([data.xs, data.ys]);
  opt.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(tensorsBefore); // every step's tensors, the model's and the optimizer's freed
  return { stats, diagnoses: monitor.diagnoses };
}

describe('an LSTM encoder–decoder (the tfjs addition-rnn shape) at a learning rate far too high', () => {
  for (const [name, lr] of [['adam', 1], ['rmsprop', 0.5]] as const) {
    it(`${name} ${lr}, seeds 1–3: critical "learning rate too high" within 3 steps of the jump, saturation named, no dying-relu`, async () => {
      for (const seed of [1, 2, 3]) {
        const { stats, diagnoses } = await runAddition(name, lr, seed, 12);
        const losses = stats.map((s) => s.loss!);
        // The jump: the first step whose loss is 1.5× the first (2.485 = ln 12: uniform over 12 characters).
        const jump = losses.findIndex((l) => l > 1.5 * losses[0]!);
        expect(jump, `losses ${losses.map((l) => l.toFixed(2)).join(' ')}`).toBeGreaterThanOrEqual(1);
        const div = diagnoses.find((d) => d.problem === 'loss-divergence')!;
        expect(div, show(diagnoses).join('\n')).toBeDefined();
        expect(div.severity).toBe('critical');
        expect(div.step - jump).toBeLessThanOrEqual(2);
        expect(div.message).toMatch(/^The learning rate is too high for this model: the loss rose to [\d.]+, ×[\d.]+ its best level 2\.485 and layer "embedding"'s weights grew ×\d+(\.\d+)? (in one update \(step 0 to 1\)|from step 0 to step \d)\. Try a rate 10× lower than the current one\.$/);
        // Weight growth is measured from the weights before the first update: step 0's update shows at step 1.
        const growth = diagnoses.find((d) => d.problem === 'weight-growth')!;
        expect(growth).toMatchObject({ step: 1, layer: 'embedding', evidence: { initialStep: 0 } });
        expect(growth.evidence.growth as number).toBeGreaterThan(10);
        // The cause comes first among the step's diagnoses when both fire at once.
        const sameStep = diagnoses.filter((d) => d.step === div.step);
        expect(sameStep[0]).toBe(div);
        // LSTM units pinned at ±1 are saturated, not dead ReLUs (an LSTM has none).
        expect(diagnoses.some((d) => d.problem === 'saturation' && (d.layer === 'encoder' || d.layer === 'decoder'))).toBe(true);
        expect(diagnoses.filter((d) => d.problem === 'dying-relu')).toEqual([]);
      }
    }, 180_000);
  }
});

describe('the same encoder–decoder at a normal rate stays quiet (no warning or critical)', () => {
  for (const [name, lr] of [['adam', 0.01], ['rmsprop', 0.01]] as const) {
    it(`${name} ${lr}, seeds 1–3, 50 steps: learns, no warning`, async () => {
      for (const seed of [1, 2, 3]) {
        const { stats, diagnoses } = await runAddition(name, lr, seed, 50);
        expect(show(serious(diagnoses))).toEqual([]);
        expect(stats[49]!.loss!).toBeLessThan(stats[0]!.loss! - 0.3);
      }
    }, 300_000);
  }
});

/** Two concentric circles (radii 1 and 0.8, as scikit-learn's make_circles) with Gaussian noise; label 1 = inner. */
function circles(n: number, noise: number, seed: number): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const random = createRandom(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const inner = i % 2;
    const r = inner ? 0.8 : 1;
    const a = 2 * Math.PI * random();
    x.push(r * Math.cos(a) + noise * randomNormal(random), r * Math.sin(a) + noise * randomNormal(random));
    y.push(inner);
  }
  return { xs: tf.tensor2d(x, [n, 2]), ys: tf.tensor2d(y, [n, 1]) };
}

/** Three Gaussian blobs in 2-D (centres uniform in [−10, 10]², one draw per problem seed), std `std`, one-hot labels. */
function blobs(n: number, std: number, seed: number, problemSeed = 2): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const cr = createRandom(problemSeed);
  const centres = [0, 1, 2].map(() => [20 * cr() - 10, 20 * cr() - 10] as const);
  const random = createRandom(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x.push(centres[c]![0] + std * randomNormal(random), centres[c]![1] + std * randomNormal(random));
    y.push(...[0, 1, 2].map((k) => (k === c ? 1 : 0)));
  }
  return { xs: tf.tensor2d(x, [n, 2]), ys: tf.tensor2d(y, [n, 3]) };
}

function accuracy(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): number {
  return tf.tidy(() => {
    const p = model.predict(xs) as tf.Tensor;
    const right = ys.shape[1] === 1 ? tf.equal(tf.greater(p, 0.5), tf.greater(ys, 0.5)) : tf.equal(tf.argMax(p, 1), tf.argMax(ys, 1));
    return tf.mean(tf.cast(right, 'float32')).dataSync()[0]!;
  });
}

const bce = (y: tf.Tensor, p: tf.Tensor): tf.Scalar =>
  tf.tidy(() => {
    const q = tf.clipByValue(p, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q)))))) as tf.Scalar;
  });

describe('healthy small MLPs with unusual Adam betas learn and stay quiet (spike and layer-ratio rules calibrated)', () => {
  const cases = [
    { task: 'circles', beta1: 0.5, beta2: 0.9, lr: 0.01 },
    { task: 'circles', beta1: 0.9, beta2: 0.999, lr: 0.01 },
    { task: 'blobs', beta1: 0.5, beta2: 0.999, lr: 0.001 },
    { task: 'blobs', beta1: 0.7, beta2: 0.9, lr: 0.001 },
  ] as const;
  for (const c of cases) {
    it(`${c.task}, Adam(${c.lr}, β1 ${c.beta1}, β2 ${c.beta2}), seeds 1–3: val accuracy > 0.75, no warning`, async () => {
      for (const seed of [1, 2, 3]) {
        const tensorsBefore = tf.memory().numTensors;
        const data = c.task === 'circles' ? circles(1000, 0.1, seed) : blobs(1000, 2, seed);
        const out = c.task === 'circles' ? 1 : 3;
        const model = tf.sequential({
          layers: [
            tf.layers.dense({ units: 50, inputShape: [2], activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.heUniform({ seed }) }),
            ...(c.task === 'circles' ? [tf.layers.dense({ units: 50, activation: 'relu', name: 'hidden2', kernelInitializer: tf.initializers.heUniform({ seed: seed + 1 }) })] : []),
            tf.layers.dense({ units: out, activation: out === 1 ? 'sigmoid' : 'softmax', name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
          ],
        });
        const [train500, val500] = [data.xs.slice(0, 500), data.xs.slice(500)];
        const [ytrain, yval] = [data.ys.slice(0, 500), data.ys.slice(500)];
        const opt = tf.train.adam(c.lr, c.beta1, c.beta2);
        const monitor = createMonitor();
        await train({ model, xs: train500, ys: ytrain, optimizer: opt, steps: 300, batchSize: 32, monitor, loss: out === 1 ? bce : crossEntropy });
        const acc = accuracy(model, val500, yval);
        expect(acc, `seed ${seed}`).toBeGreaterThan(0.75);
        expect(show(serious(monitor.diagnoses)), `seed ${seed}, val accuracy ${acc}`).toEqual([]);
        tf.dispose([data.xs, data.ys, train500, val500, ytrain, yval]);
        opt.dispose();
        model.dispose();
        expect(tf.memory().numTensors).toBe(tensorsBefore);
      }
    }, 120_000);
  }
});
