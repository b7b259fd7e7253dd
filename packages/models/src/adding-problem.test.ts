import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADDING_BASELINE_MSE, addingProblem, addingTask } from './adding-problem';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('addingProblem', () => {
  it('has exactly two markers per sequence, one in each half, and the target is the sum of the marked values', async () => {
    const T = 20;
    const n = 500;
    const { xs, ys } = addingProblem({ sequenceLength: T, samples: n, seed: 3 });
    expect(xs.shape).toEqual([n, T, 2]);
    expect(ys.shape).toEqual([n, 1]);
    const x = await xs.data();
    const y = await ys.data();
    for (let s = 0; s < n; s++) {
      const marked: number[] = [];
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const v = x[(s * T + t) * 2]!;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(1);
        if (x[(s * T + t) * 2 + 1] === 1) {
          marked.push(t);
          sum += v;
        } else expect(x[(s * T + t) * 2 + 1]).toBe(0);
      }
      expect(marked).toHaveLength(2);
      expect(marked[0]!).toBeLessThan(T / 2);
      expect(marked[1]!).toBeGreaterThanOrEqual(T / 2);
      expect(y[s]!).toBeCloseTo(sum, 5);
    }
    tf.dispose([xs, ys]);
  });

  it('predicting the constant 1 scores MSE ≈ 1/6 (the sum of two U(0,1) has variance 1/6)', async () => {
    const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 20000, seed: 1 });
    const y = await ys.data();
    let mean = 0;
    let mse = 0;
    for (const v of y) {
      mean += v / y.length;
      mse += (v - 1) ** 2 / y.length;
    }
    expect(mean).toBeCloseTo(1, 2);
    expect(Math.abs(mse - ADDING_BASELINE_MSE)).toBeLessThan(0.005);
    tf.dispose([xs, ys]);
  });

  it('is a pure function of its options', async () => {
    const a = addingProblem({ sequenceLength: 8, samples: 16, seed: 42 });
    const b = addingProblem({ sequenceLength: 8, samples: 16, seed: 42 });
    const c = addingProblem({ sequenceLength: 8, samples: 16, seed: 43 });
    expect(await a.xs.data()).toEqual(await b.xs.data());
    expect(await a.ys.data()).toEqual(await b.ys.data());
    expect(await a.ys.data()).not.toEqual(await c.ys.data());
    tf.dispose([a.xs, a.ys, b.xs, b.ys, c.xs, c.ys]);
  });

  it('rejects bad options', () => {
    expect(() => addingProblem({ sequenceLength: 1, samples: 4 })).toThrow(/sequenceLength must be an integer >= 2, got 1/);
    expect(() => addingProblem({ sequenceLength: 4, samples: 2.5 })).toThrow(/samples must be an integer >= 1, got 2.5/);
  });
});

describe('addingTask', () => {
  it('judges by MSE against the threshold, on hand-made predictions', async () => {
    const task = addingTask({ sequenceLength: 4 });
    expect(task.criterion).toEqual({ metric: 'mse', threshold: 0.04, baseline: ADDING_BASELINE_MSE });
    const data = { xs: tf.zeros([4, 4, 2]), ys: tf.tensor2d([[1], [0.5], [1.5], [1]]) };
    await expectNoLeak(async () => {
      const good = tf.tensor2d([[1.1], [0.5], [1.5], [0.9]]); // MSE (0.01 + 0.01) / 4 = 0.005
      const bad = tf.tensor2d([[1], [1], [1], [1]]); // MSE (0.25 + 0.25) / 4 = 0.125
      const g = await task.evaluate(good, data);
      const b = await task.evaluate(bad, data);
      expect(g.value).toBeCloseTo(0.005, 6);
      expect(g.passed).toBe(true);
      expect(b.value).toBeCloseTo(0.125, 6);
      expect(b.passed).toBe(false);
      const nan = tf.tensor2d([[Number.NaN], [1], [1], [1]]);
      expect((await task.evaluate(nan, data)).passed).toBe(false);
      tf.dispose([good, bad, nan]);
    });
    tf.dispose([data.xs, data.ys]);
  });
});
