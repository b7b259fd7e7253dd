import * as tf from '@tensorflow/tfjs';
import { createMonitor } from '@gradguard/core';
import type { StepStatistics } from '@gradguard/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';

// What the detectors see through guard itself: weights measured before each update, and the step's clip scale.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function data(samples: number, seed: number, offset = 0): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  return tf.tidy(() => {
    const xs = tf.randomUniform([samples, 8], -1, 1, 'float32', seed) as tf.Tensor2D;
    return { xs, ys: tf.add(tf.sum(tf.sin(xs), 1, true), offset) as tf.Tensor2D };
  });
}

async function run(model: tf.Sequential, optimizer: tf.Optimizer, steps: number, seed: number, options: Parameters<typeof guard>[1] = {}, offset = 0) {
  const { xs, ys } = data(32 * steps, seed, offset);
  const stats: StepStatistics[] = [];
  const monitor = createMonitor();
  const guarded = guard(optimizer, { model, monitor, onStep: (s) => stats.push(s), print: 'none', ...options });
  for (let i = 0; i < steps; i++) {
    const x = xs.slice(32 * i, 32);
    const y = ys.slice(32 * i, 32);
    guarded.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, true)?.dispose();
    tf.dispose([x, y]);
  }
  await guarded.flush();
  guarded.dispose();
  tf.dispose([xs, ys]);
  return { stats, diagnoses: monitor.diagnoses };
}

describe('guard measures weights before the update: a first-step blow-up is seen at step 1', () => {
  it('a kernel initialized at 0.01 and one SGD step at lr 2 (×30 or more): weight-growth at step 1 from step 0, 3 seeds', async () => {
    for (const seed of [1, 2, 3]) {
      const before = tf.memory().numTensors;
      const model = tf.sequential({
        layers: [tf.layers.dense({ units: 1, inputShape: [8], name: 'lin', kernelInitializer: tf.initializers.constant({ value: 0.01 }), biasInitializer: 'zeros' })],
      });
      const opt = tf.train.sgd(2);
      const { stats, diagnoses } = await run(model, opt, 3, seed);
      // Step 0's weights are the initial ones: ‖[0.01 × 8, bias 0]‖ = 0.01·√8.
      expect(stats[0]!.layers[0]!.weightNorm).toBeCloseTo(0.01 * Math.sqrt(8), 6);
      const growth = stats[1]!.layers[0]!.weightNorm! / stats[0]!.layers[0]!.weightNorm!;
      expect(growth).toBeGreaterThan(30);
      const d = diagnoses.find((x) => x.problem === 'weight-growth')!;
      expect(d).toMatchObject({ step: 1, layer: 'lin', evidence: { initialStep: 0 } });
      expect(d.evidence.growth).toBeCloseTo(growth, 6);
      opt.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('clip starvation through guard + clipByGlobalNorm(1)', () => {
  it('targets offset by 1000: the output bias holds > 90 % of ‖g‖², scale < 0.01 for 20 steps → named at step 19', async () => {
    const before = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, inputShape: [8], activation: 'tanh', name: 'hidden', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        // A small output kernel: the error of ~1000 reaches the hidden layer only ×1e-3, and its own gradient e·mean(h)
        // averages out over tanh units, so the output bias (gradient 2·mean error) holds most of ‖g‖².
        tf.layers.dense({ units: 1, name: 'out', kernelInitializer: tf.initializers.randomUniform({ minval: -1e-3, maxval: 1e-3, seed: 2 }) }),
      ],
    });
    const bias = (model.layers[1]!.weights[1]!.read() as tf.Variable).name;
    const opt = tf.train.sgd(0.01);
    const { stats, diagnoses } = await run(model, opt, 25, 1, { transform: clipByGlobalNorm(1) }, 1000);
    const top = stats[10]!.variables.find((v) => v.name === bias)!;
    expect(top.norm ** 2 / stats[10]!.preClipNorm ** 2).toBeGreaterThan(0.9);
    expect(Math.max(...stats.slice(0, 20).map((s) => s.scale))).toBeLessThan(0.01);
    const d = diagnoses.find((x) => x.problem === 'clip-starvation')!;
    expect(d).toMatchObject({ step: 19, severity: 'warning', layer: 'out', evidence: { tensor: bias, streak: 20, since: 0 } });
    expect(d.advice[0]!.remedy).toBe('clipByNorm');
    opt.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('guard judges the kernels the run starts from', () => {
  it('five Dense(5, tanh) at U(0, 1): vanishing-gradient (one-sign initialization) at step 0; glorot: quiet; tensors unchanged', async () => {
    const build = (init: (s: number) => ReturnType<typeof tf.initializers.glorotUniform>) =>
      tf.sequential({
        layers: [
          ...Array.from({ length: 5 }, (_, i) => tf.layers.dense({ units: 5, activation: 'tanh', name: `t${i}`, kernelInitializer: init(i + 1), ...(i === 0 ? { inputShape: [8] } : {}) })),
          tf.layers.dense({ units: 1, name: 'out' }),
        ],
      });
    for (const [init, expected] of [
      [(s: number) => tf.initializers.randomUniform({ minval: 0, maxval: 1, seed: s }), ['0 warning vanishing-gradient t0 detectInitialization']],
      [(s: number) => tf.initializers.glorotUniform({ seed: s }), []],
    ] as const) {
      const before = tf.memory().numTensors;
      const model = build(init);
      const opt = tf.train.sgd(0.01);
      const { diagnoses } = await run(model, opt, 5, 1);
      expect(diagnoses.filter((d) => d.severity !== 'info').map((d) => `${d.step} ${d.severity} ${d.problem} ${d.layer} ${d.detector}`)).toEqual(expected);
      opt.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
