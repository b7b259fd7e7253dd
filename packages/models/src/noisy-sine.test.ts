import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noisySine, noisySineTask } from './noisy-sine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('noisySine', () => {
  it('targets lie in [-1, 1] with variance ≈ 1/2, inputs carry the sine plus noise of the given σ, scaled', async () => {
    const T = 12;
    const n = 4000;
    const { xs, ys } = noisySine({ sequenceLength: T, samples: n, noise: 0.2, seed: 8 });
    expect(xs.shape).toEqual([n, T, 1]);
    const y = await ys.data();
    let mean = 0;
    let sq = 0;
    for (const v of y) {
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
      mean += v / n;
      sq += (v * v) / n;
    }
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sq - mean * mean).toBeCloseTo(0.5, 1);
    // Inputs: E[x²] = E[sin²] + σ² = 0.5 + 0.04.
    const x = await xs.data();
    let xsq = 0;
    for (const v of x) xsq += (v * v) / x.length;
    expect(xsq).toBeCloseTo(0.54, 1);
    const scaled = noisySine({ sequenceLength: T, samples: n, noise: 0.2, seed: 8, inputScale: 1000, flatten: true });
    expect(scaled.xs.shape).toEqual([n, T]);
    const sx = await scaled.xs.data();
    for (let i = 0; i < 50; i++) expect(sx[i]!).toBeCloseTo(1000 * x[i]!, 1);
    expect(await scaled.ys.data()).toEqual(y); // targets are not scaled
    tf.dispose([xs, ys, scaled.xs, scaled.ys]);
  });

  it('with no noise, the target continues the window: sin(ωT + φ) from the last two inputs', async () => {
    const { xs, ys } = noisySine({ sequenceLength: 6, samples: 50, noise: 0, seed: 3 });
    const x = await xs.data();
    const y = await ys.data();
    for (let s = 0; s < 50; s++) {
      // sin(a + ω) = 2cos(ω)·sin(a) − sin(a − ω) for consecutive samples of any sine: recover 2cos(ω) from the window.
      const w = Array.from(x.slice(s * 6, s * 6 + 6));
      const twoCos = (w[2]! + w[0]!) / w[1]!;
      if (Math.abs(w[1]!) < 0.2) continue; // ill-conditioned
      expect(y[s]!).toBeCloseTo(twoCos * w[5]! - w[4]!, 3);
    }
    tf.dispose([xs, ys]);
  });

  it('rejects a negative noise', () => {
    expect(() => noisySine({ sequenceLength: 4, samples: 1, noise: -1 })).toThrow(/noise must be a finite number >= 0, got -1/);
  });
});

describe('noisySineTask', () => {
  it('judges by MSE under 0.05 with baseline 0.5', async () => {
    const task = noisySineTask({ sequenceLength: 4 });
    expect(task.criterion).toEqual({ metric: 'mse', threshold: 0.05, baseline: 0.5 });
    const data = { xs: tf.zeros([2, 4, 1]), ys: tf.tensor2d([[0.5], [-0.5]]) };
    const close = tf.tensor2d([[0.6], [-0.5]]); // MSE 0.005
    const zero = tf.zeros([2, 1]); // MSE 0.25
    expect((await task.evaluate(close, data)).passed).toBe(true);
    expect(await task.evaluate(zero, data)).toMatchObject({ value: 0.25, passed: false });
    tf.dispose([data.xs, data.ys, close, zero]);
  });
});
