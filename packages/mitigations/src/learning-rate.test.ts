import * as tf from '@tensorflow/tfjs';
import type { Diagnosis, Problem, StepStatistics } from '@gradguard/core';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';
import { controlLearningRate, readLearningRate, setLearningRate } from './learning-rate';
import { trainExplodingRnn } from './test/fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const diagnosis = (problem: Problem, phase: Diagnosis['phase'], step: number): Diagnosis => ({
  problem,
  severity: 'warning',
  phase,
  step,
  detector: 'test',
  message: '',
  evidence: {},
  advice: [],
});

describe('setLearningRate / readLearningRate', () => {
  for (const [label, make, firstStep] of [
    // SGD: Δ = −lr·g. Momentum (first step): Δ = −lr·g. Adam (first step): Δ = −lr·g/(|g| + ε) ≈ −lr.
    ['sgd', () => tf.train.sgd(1), (lr: number) => -lr * 2],
    ['momentum', () => tf.train.momentum(1, 0.9), (lr: number) => -lr * 2],
    ['adam', () => tf.train.adam(1), (lr: number) => (-lr * 2) / (2 + 1e-7)],
  ] as const) {
    it(`${label}: the next step uses the rate that was set`, async () => {
      const opt = make();
      setLearningRate(opt, 0.25);
      expect(readLearningRate(opt)).toBe(0.25);
      const w = tf.variable(tf.tensor([1]), true, `lr_${label}`);
      const g = tf.tensor([2]);
      opt.applyGradients({ [`lr_${label}`]: g } as tf.NamedTensorMap as never);
      expectClose(await w.data(), [1 + firstStep(0.25)], 1e-6);
      tf.dispose([w, g]);
      opt.dispose();
    });
  }

  it('rejects an optimizer without a numeric learning rate and a bad rate', () => {
    const odd = Object.create(tf.train.sgd(1)) as tf.Optimizer;
    Object.defineProperty(odd, 'learningRate', { value: 'fast' });
    Object.defineProperty(odd, 'setLearningRate', { value: undefined });
    expect(() => setLearningRate(odd, 0.1)).toThrow(/has no numeric learningRate to set.*built-in tfjs optimizer/);
    expect(() => setLearningRate(tf.train.sgd(1), -1)).toThrow('setLearningRate: learningRate must be a number >= 0, got -1.');
  });
});

describe('controlLearningRate', () => {
  it('warms up linearly from `from`·base to base over `steps`', () => {
    const c = controlLearningRate({ warmup: { steps: 4 } });
    expectClose([0, 1, 2, 3, 4, 100].map((s) => c.rateAt(s, 0.1)), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], 1e-12);
    const d = controlLearningRate({ warmup: { steps: 2, from: 0.5 } });
    expectClose([0, 1, 2].map((s) => d.rateAt(s, 1)), [0.75, 1, 1], 1e-12);
  });

  it('backs off on the onset or escalation of a listed problem, holds while it is active, restores after calm steps', () => {
    const c = controlLearningRate({ backoff: { factor: 0.5, calmSteps: 3, minScale: 0.1 } });
    const active = [diagnosis('exploding-gradient', 'onset', 0)];
    c.observe(0, [diagnosis('exploding-gradient', 'onset', 0)], active);
    expect(c.scale).toBe(0.5);
    c.observe(1, [], active);
    c.observe(2, [diagnosis('exploding-gradient', 'escalation', 2)], active);
    expect(c.scale).toBe(0.25);
    for (let s = 3; s < 20; s++) c.observe(s, [], active); // still active: no restore
    expect(c.scale).toBe(0.25);
    c.observe(20, [diagnosis('exploding-gradient', 'recovery', 20)], []);
    c.observe(21, [], []);
    c.observe(22, [], []);
    expect(c.scale).toBe(0.5); // 3 calm steps: one factor back
    for (let s = 23; s < 26; s++) c.observe(s, [], []);
    expect(c.scale).toBe(1);
    for (let s = 26; s < 40; s++) c.observe(s, [], []);
    expect(c.scale).toBe(1); // never above the base
    for (let s = 40; s < 50; s++) c.observe(s, [diagnosis('gradient-spike', 'onset', s)], []);
    expect(c.scale).toBe(0.1); // floored at minScale
    expect(c.backoffs).toBe(12);
    c.observe(50, [diagnosis('vanishing-gradient', 'onset', 50)], []);
    expect(c.backoffs).toBe(12); // not a listed problem
    c.lower(0.5);
    expect(c.rateAt(60, 1)).toBeCloseTo(0.05, 12);
  });

  it('rejects bad options', () => {
    expect(() => controlLearningRate({ warmup: { steps: 0 } })).toThrow('controlLearningRate: warmup.steps must be an integer >= 1, got 0.');
    expect(() => controlLearningRate({ backoff: { factor: 2 } })).toThrow(/backoff.factor must be a number > 0 <= 1, got 2/);
  });
});

describe('learning-rate control inside guard', () => {
  it('warm-up: each step runs at the scheduled rate and reports it, without a readback', async () => {
    const w = tf.variable(tf.tensor([0]), true, 'lr_warm');
    const rates: number[] = [];
    const g = guard(tf.train.sgd(0.1), { learningRate: controlLearningRate({ warmup: { steps: 4 } }), onStep: (s) => rates.push(s.learningRate!) });
    for (let i = 0; i < 5; i++) {
      const grad = tf.tensor([1]);
      g.applyGradients({ lr_warm: grad });
      grad.dispose();
    }
    await g.flush();
    expectClose(rates, [0.025, 0.05, 0.075, 0.1, 0.1], 1e-9);
    expectClose(await w.data(), [-(0.025 + 0.05 + 0.075 + 0.1 + 0.1)], 1e-6);
    w.dispose();
    g.dispose();
  });

  it('back-off: on the exploding RNN the monitor diagnoses exploding gradients and the rate is halved from then on', async () => {
    const run = await trainExplodingRnn({ transform: clipByGlobalNorm(1), learningRate: controlLearningRate({ backoff: { factor: 0.5 } }) }, 2);
    const rates = run.steps.map((s: StepStatistics) => s.learningRate);
    expect(rates[0]).toBe(0.1);
    const first = run.diagnoses.find((d) => d.problem === 'exploding-gradient' || d.problem === 'gradient-spike')!;
    expect(first).toBeDefined();
    // Diagnoses arrive with the step's asynchronous readback, so the rate changes from a later step on, never before.
    const firstLow = rates.findIndex((r) => r! < 0.1);
    expect(firstLow).toBeGreaterThan(first.step);
    expect(firstLow).toBeLessThanOrEqual(first.step + 2);
    expect(rates.slice(0, first.step + 1).every((r) => r === 0.1)).toBe(true);
    expect(rates[firstLow]).toBeCloseTo(0.05, 12);
    expect(run.weightsFinite).toBe(true);
  });

  it('back-off needs a monitor, and says so', () => {
    expect(() => guard(tf.train.sgd(0.1), { learningRate: controlLearningRate({ backoff: {} }) })).toThrow(/back-off reacts to diagnoses, but no monitor was given/);
  });
});
