import * as tf from '@tensorflow/tfjs';
import { expectClose, expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The reference: g * maxNorm / max(‖g‖₂ over all entries, maxNorm), in float64. */
function reference(grads: number[][], maxNorm: number): number[][] {
  const norm = Math.sqrt(grads.flat().reduce((a, x) => a + x * x, 0));
  const f = maxNorm / Math.max(norm, maxNorm);
  return grads.map((g) => g.map((x) => x * f));
}

async function run(values: Record<string, { v: number[]; shape: number[] }>, maxNorm: number) {
  const grads: tf.NamedTensorMap = {};
  for (const [k, { v, shape }] of Object.entries(values)) grads[k] = tf.tensor(v, shape);
  const t = clipByGlobalNorm(maxNorm);
  const state = t.init({});
  const [out] = t.update(grads, state, {});
  const got = await Promise.all(Object.keys(values).map(async (k) => Array.from(await out[k]!.data())));
  expect(Object.keys(out).map((k) => out[k]!.shape)).toEqual(Object.values(values).map((x) => x.shape));
  tf.dispose([...Object.values(out), ...Object.values(grads)]);
  return got;
}

describe('clipByGlobalNorm', () => {
  const shapes = {
    scalar: { v: [3], shape: [] },
    vector: { v: [1, -2, 2], shape: [3] },
    matrix: { v: [0.5, -1, 4, 2, 0, -3], shape: [2, 3] },
    recurrent3d: { v: Array.from({ length: 12 }, (_, i) => Math.sin(i) * 5), shape: [2, 3, 2] },
    conv4d: { v: Array.from({ length: 16 }, (_, i) => (i % 5) - 2), shape: [2, 2, 2, 2] },
  };

  it('equals maxNorm / max(globalNorm, maxNorm) scaling across scalar, vector, matrix, 3-D and 4-D gradients', async () => {
    const got = await run(shapes, 1.5);
    const want = reference(Object.values(shapes).map((s) => s.v), 1.5);
    got.forEach((g, i) => expectClose(g, want[i]!, 1e-6));
    const clippedNorm = Math.sqrt(got.flat().reduce((a, x) => a + x * x, 0));
    expect(clippedNorm).toBeCloseTo(1.5, 5);
  });

  it('leaves gradients below or exactly at the bound unchanged', async () => {
    expect(await run({ a: { v: [3, 4], shape: [2] } }, 5)).toEqual([[3, 4]]); // norm exactly 5
    expect(await run({ a: { v: [0.3, 0.4], shape: [2] } }, 5)).toEqual([[0.3, 0.4]].map((r) => r.map(Math.fround)));
  });

  it('passes an all-zero gradient without producing NaN', async () => {
    expect(await run({ z: { v: [0, 0, 0, 0], shape: [2, 2] } }, 1)).toEqual([[0, 0, 0, 0]]);
  });

  it('documents its non-finite behaviour: NaN poisons every gradient, Infinity zeroes finite entries', async () => {
    const [a, b] = await run({ a: { v: [1, Number.NaN], shape: [2] }, b: { v: [1, 1], shape: [2] } }, 1);
    expect(a!.every(Number.isNaN)).toBe(true);
    expect(b!.every(Number.isNaN)).toBe(true);
    const [, d] = await run({ c: { v: [Number.POSITIVE_INFINITY], shape: [1] }, d: { v: [2, 3], shape: [2] } }, 1);
    expect(d).toEqual([0, 0]);
  });

  it('rejects a bound that is not a positive number, naming it', () => {
    expect(() => clipByGlobalNorm(0)).toThrow('clipByGlobalNorm: maxNorm must be a number > 0, got 0.');
    expect(() => clipByGlobalNorm(Number.NaN)).toThrow(/got NaN/);
  });

  it('leaks no tensor over 500 updates', async () => {
    const grads = { a: tf.randomNormal([16, 16]), b: tf.randomNormal([16]) };
    const t = clipByGlobalNorm(0.1);
    let state = t.init(grads);
    await expectNoLeak(() => {
      for (let i = 0; i < 500; i++) {
        const [out, s] = t.update(grads, state, {});
        state = s;
        tf.dispose(Object.values(out));
      }
    });
    tf.dispose(Object.values(grads));
  });
});
