import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyMemory, copyTask } from './copy-memory';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('copyMemory', () => {
  it('shows K symbols, waits T, cues once, and expects the same K symbols at the end', async () => {
    const [T, K, C, n] = [7, 3, 5, 300];
    const L = T + 2 * K;
    const { xs, ys } = copyMemory({ delay: T, length: K, alphabet: C, samples: n, seed: 4 });
    expect(xs.shape).toEqual([n, L, C + 2]);
    expect(ys.shape).toEqual([n, L, C + 1]);
    const x = await xs.data();
    const y = await ys.data();
    const seen = new Array<number>(C + 1).fill(0);
    const argmax = (a: ArrayLike<number>, off: number, w: number) => {
      const row = Array.from({ length: w }, (_, i) => a[off + i]!);
      expect(row.reduce((p, q) => p + q, 0)).toBe(1);
      return row.indexOf(1);
    };
    for (let s = 0; s < n; s++) {
      const inputs = Array.from({ length: L }, (_, t) => argmax(x, (s * L + t) * (C + 2), C + 2));
      const outputs = Array.from({ length: L }, (_, t) => argmax(y, (s * L + t) * (C + 1), C + 1));
      const pattern = inputs.slice(0, K);
      for (const p of pattern) {
        expect(p).toBeGreaterThanOrEqual(1);
        expect(p).toBeLessThanOrEqual(C);
        seen[p]!++;
      }
      expect(inputs.filter((v) => v === C + 1)).toHaveLength(1); // one cue
      expect(inputs[K + T - 1]).toBe(C + 1);
      expect(inputs.slice(K).filter((v) => v !== 0 && v !== C + 1)).toHaveLength(0);
      expect(outputs.slice(L - K)).toEqual(pattern);
      expect(outputs.slice(0, L - K).every((v) => v === 0)).toBe(true);
    }
    // Symbols are uniform over 1..C: each near n·K / C = 180.
    for (let c = 1; c <= C; c++) expect(Math.abs(seen[c]! - (n * K) / C)).toBeLessThan(45);
    tf.dispose([xs, ys]);
  });

  it('rejects bad options', () => {
    expect(() => copyMemory({ delay: 0, samples: 1 })).toThrow(/delay must be an integer >= 1, got 0/);
    expect(() => copyMemory({ delay: 3, alphabet: 1, samples: 1 })).toThrow(/alphabet must be an integer >= 2, got 1/);
  });
});

describe('copyTask', () => {
  it('judges recall accuracy on the last K steps only', async () => {
    const task = copyTask({ delay: 2, length: 2, alphabet: 3 });
    expect(task.inputShape).toEqual([6, 5]);
    expect(task.returnSequences).toBe(true);
    const data = copyMemory({ delay: 2, length: 2, alphabet: 3, samples: 4, seed: 1 });
    // Perfect recall but wrong blanks everywhere else: accuracy 1 (blanks are not judged).
    const recall = tf.tidy(() => {
      const wrongBlanks = tf.oneHot(tf.fill([4, 4], 1, 'int32'), 4);
      return tf.concat([wrongBlanks, tf.slice(data.ys, [0, 4, 0], [-1, 2, -1])], 1);
    });
    expect(await task.evaluate(recall, data)).toMatchObject({ value: 1, passed: true, baseline: 1 / 3 });
    // Blanks everywhere (the memoryless minimum of the loss): accuracy 0 on the recall steps.
    const blanks = tf.oneHot(tf.zeros([4, 6], 'int32'), 4);
    expect(await task.evaluate(blanks, data)).toMatchObject({ value: 0, passed: false });
    tf.dispose([recall, blanks, data.xs, data.ys]);
  });
});
