import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEMPORAL_ORDER_CLASSES, TEMPORAL_ORDER_SYMBOLS, temporalOrder, temporalOrderTask } from './temporal-order';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('temporalOrder', () => {
  it('holds exactly two relevant symbols in their windows, and their order is the class', async () => {
    const T = 50;
    const n = 400;
    const { xs, ys } = temporalOrder({ sequenceLength: T, samples: n, seed: 2 });
    expect(xs.shape).toEqual([n, T, TEMPORAL_ORDER_SYMBOLS]);
    expect(ys.shape).toEqual([n, TEMPORAL_ORDER_CLASSES]);
    const x = await xs.data();
    const y = await ys.data();
    const classCounts = [0, 0, 0, 0];
    const distractors = [0, 0, 0, 0];
    for (let s = 0; s < n; s++) {
      const relevant: [number, number][] = [];
      for (let t = 0; t < T; t++) {
        const row = Array.from(x.slice((s * T + t) * 6, (s * T + t) * 6 + 6));
        expect(row.reduce((a, b) => a + b, 0)).toBe(1); // one-hot
        const symbol = row.indexOf(1);
        if (symbol >= 4) relevant.push([t, symbol]);
        else distractors[symbol]!++;
      }
      expect(relevant).toHaveLength(2);
      expect(relevant[0]![0]).toBeGreaterThanOrEqual(5); // [T/10, 2T/10)
      expect(relevant[0]![0]).toBeLessThan(10);
      expect(relevant[1]![0]).toBeGreaterThanOrEqual(20); // [4T/10, 5T/10)
      expect(relevant[1]![0]).toBeLessThan(25);
      const cls = (relevant[0]![1] - 4) * 2 + (relevant[1]![1] - 4); // XX 0, XY 1, YX 2, YY 3
      const label = Array.from(y.slice(s * 4, s * 4 + 4));
      expect(label.indexOf(1)).toBe(cls);
      classCounts[cls]!++;
    }
    expect(classCounts).toEqual([100, 100, 100, 100]); // exactly balanced
    // Distractors are uniform over a–d: 400 × 48 draws, each count within 3 % of a quarter.
    for (const c of distractors) expect(Math.abs(c / (n * (T - 2)) - 0.25)).toBeLessThan(0.0075);
    tf.dispose([xs, ys]);
  });

  it('is deterministic from the seed', async () => {
    const a = temporalOrder({ sequenceLength: 10, samples: 8, seed: 5 });
    const b = temporalOrder({ sequenceLength: 10, samples: 8, seed: 5 });
    expect(await a.xs.data()).toEqual(await b.xs.data());
    tf.dispose([a.xs, a.ys, b.xs, b.ys]);
  });

  it('rejects T < 10 (the windows would be empty)', () => {
    expect(() => temporalOrder({ sequenceLength: 9, samples: 1 })).toThrow(/sequenceLength must be an integer >= 10, got 9/);
  });
});

describe('temporalOrderTask', () => {
  it('judges by argmax accuracy on hand-made predictions', async () => {
    const task = temporalOrderTask({ sequenceLength: 10 });
    expect(task.criterion).toEqual({ metric: 'accuracy', threshold: 0.9, baseline: 0.25 });
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const data = { xs: tf.zeros([4, 10, 6]), ys };
    const allRight = tf.tensor2d([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0, 0, 1, 0], [0.2, 0.2, 0.2, 0.4]]);
    const threeRight = tf.tensor2d([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0, 0, 1, 0], [0.4, 0.2, 0.2, 0.2]]);
    expect(await task.evaluate(allRight, data)).toMatchObject({ value: 1, passed: true });
    expect(await task.evaluate(threeRight, data)).toMatchObject({ value: 0.75, passed: false });
    tf.dispose([ys, data.xs, allRight, threeRight]);
  });
});
