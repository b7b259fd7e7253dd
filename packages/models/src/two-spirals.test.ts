import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { twoSpirals, twoSpiralsTask } from './two-spirals';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('twoSpirals', () => {
  it('is balanced, inside the unit disc (plus jitter), and class 1 is class 0 rotated by π', async () => {
    const n = 1000;
    const { xs, ys } = twoSpirals({ samples: n, noise: 0, seed: 6 });
    expect(xs.shape).toEqual([n, 2]);
    const x = await xs.data();
    const y = await ys.data();
    expect(Array.from(y).filter((v) => v === 1)).toHaveLength(n / 2);
    for (let s = 0; s < n; s++) {
      const r = Math.hypot(x[2 * s]!, x[2 * s + 1]!);
      expect(r).toBeGreaterThanOrEqual(0.05 - 1e-6);
      expect(r).toBeLessThanOrEqual(1 + 1e-6);
      // On the spiral: angle = 2π·turns·r + π·class (mod 2π), with turns 1.
      const angle = Math.atan2(x[2 * s + 1]!, x[2 * s]!);
      const expected = 2 * Math.PI * r + Math.PI * y[s]!;
      const diff = Math.abs(Math.atan2(Math.sin(angle - expected), Math.cos(angle - expected)));
      expect(diff).toBeLessThan(1e-4);
    }
    const big = twoSpirals({ samples: 10, noise: 0, seed: 6, inputScale: 1000 });
    const bx = await big.xs.data();
    for (let i = 0; i < 20; i++) expect(bx[i]!).toBeCloseTo(1000 * x[i]!, 2);
    tf.dispose([xs, ys, big.xs, big.ys]);
  });

  it('is deterministic from the seed', async () => {
    const a = twoSpirals({ samples: 20, seed: 1 });
    const b = twoSpirals({ samples: 20, seed: 1 });
    expect(await a.xs.data()).toEqual(await b.xs.data());
    tf.dispose([a.xs, a.ys, b.xs, b.ys]);
  });

  it('rejects bad options', () => {
    expect(() => twoSpirals({ samples: 10, turns: 0 })).toThrow(/turns must be a number > 0, got 0/);
    expect(() => twoSpirals({ samples: 10, noise: -0.1 })).toThrow(/noise must be a finite number >= 0, got -0.1/);
  });
});

describe('twoSpiralsTask', () => {
  it('judges by thresholding the sigmoid output at 0.5', async () => {
    const task = twoSpiralsTask();
    const data = { xs: tf.zeros([4, 2]), ys: tf.tensor2d([[0], [1], [1], [0]]) };
    const p = tf.tensor2d([[0.2], [0.9], [0.6], [0.4]]);
    const q = tf.tensor2d([[0.2], [0.9], [0.4], [0.4]]);
    expect(await task.evaluate(p, data)).toMatchObject({ value: 1, passed: true, baseline: 0.5 });
    expect(await task.evaluate(q, data)).toMatchObject({ value: 0.75, passed: false });
    tf.dispose([data.xs, data.ys, p, q]);
  });
});
