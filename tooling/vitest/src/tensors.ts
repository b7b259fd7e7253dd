import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/**
 * Runs `body` and asserts that it leaves no tensor behind: `tf.memory().numTensors` must be the same after as before.
 * Returns what `body` returned.
 */
export async function expectNoLeak<T>(body: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await body();
  const after = tf.memory().numTensors;
  expect(after - before, `tensors leaked: ${after - before} (before ${before}, after ${after})`).toBe(0);
  return result;
}

/** Makes a Float32 tensor from nested arrays; the shape is inferred. */
export function t(values: tf.TensorLike, shape?: number[]): tf.Tensor {
  return tf.tensor(values, shape, 'float32');
}

/** Asserts two number arrays are equal element-wise within `tol` (absolute plus relative). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a, `index ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `index ${i}`).toBe(e);
      continue;
    }
    expect(Math.abs(a - e), `index ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
  }
}
