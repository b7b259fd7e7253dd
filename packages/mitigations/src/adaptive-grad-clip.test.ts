import * as tf from '@tensorflow/tfjs';
import { expectClose, expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptiveGradClip, unitwiseNorm } from './adaptive-grad-clip';
import { SHAPES, WEIGHTS, applyOnce } from './test/fixtures';
import { agcReference, norm, units } from './test/reference';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('adaptiveGradClip (AGC)', () => {
  it('equals the unit-wise AGC formula on scalar, vector, matrix, 3-D and 4-D gradients', async () => {
    for (const clipping of [0.05, 0.5, 3]) {
      const got = await applyOnce(adaptiveGradClip(clipping), SHAPES, WEIGHTS);
      for (const [k, { v, shape }] of Object.entries(SHAPES)) {
        expectClose(got[k]!, agcReference(v, WEIGHTS[k]!.v, shape, clipping, 1e-3), 1e-6);
      }
    }
  });

  it('clips unit by unit: a dense kernel [in, out] is clipped per output column, each to clipping·‖W_col‖', async () => {
    // W columns have norms 1 and 10; G columns norms 5 and 5. With clipping 1, only the first column is clipped.
    const got = await applyOnce(adaptiveGradClip(1), { k: { v: [3, 0, 4, 5], shape: [2, 2] } }, { k: { v: [0.6, 6, 0.8, 8], shape: [2, 2] } });
    expectClose(got['k']!, [0.6, 0, 0.8, 5], 1e-6);
    expect(units([2, 2])).toEqual([[0, 2], [1, 3]]);
  });

  it('leaves a ratio exactly at `clipping` and an all-zero gradient unchanged, and floors zero weights at eps', async () => {
    expect(await applyOnce(adaptiveGradClip(0.5), { b: { v: [3, 4], shape: [2] } }, { b: { v: [6, 8], shape: [2] } })).toEqual({ b: [3, 4] });
    expect(await applyOnce(adaptiveGradClip(0.01), { z: { v: [0, 0, 0, 0], shape: [2, 2] } }, { z: { v: [1, 1, 1, 1], shape: [2, 2] } })).toEqual({
      z: [0, 0, 0, 0],
    });
    // A zero-initialised bias: max(‖W‖, eps) = 1e-3, so the gradient is clipped to norm clipping · 1e-3.
    const bias = await applyOnce(adaptiveGradClip(0.1, { eps: 1e-3 }), { b: { v: [3, 4], shape: [2] } }, { b: { v: [0, 0], shape: [2] } });
    expect(norm(bias['b']!)).toBeCloseTo(1e-4, 9);
  });

  it('documents non-finite input: only the unit holding a NaN or an Infinity is affected', async () => {
    const got = await applyOnce(
      adaptiveGradClip(0.01),
      { k: { v: [Number.NaN, 1, Infinity, 1, 1, 1], shape: [2, 3] } },
      { k: { v: [1, 1, 1, 1, 1, 1], shape: [2, 3] } },
    );
    // Columns: [NaN, 1] stays NaN; [1, 1] is clipped to norm 0.01·√2; [Infinity, 1] gets factor 0 → [NaN, 0].
    expect(got['k']![0]).toBeNaN();
    expect(got['k']![3]).toBe(1);
    expectClose([got['k']![1]!, got['k']![4]!], [0.01, 0.01], 1e-6);
    expect(got['k']![2]).toBeNaN();
    expect(got['k']![5]).toBe(0);
  });

  it('unitwiseNorm keeps one norm per unit, broadcastable to the tensor', async () => {
    const x = tf.ones([3, 3, 4, 5]);
    const n = unitwiseNorm(x);
    expect(n.shape).toEqual([1, 1, 1, 5]);
    expectClose(await n.data(), Array(5).fill(6), 1e-6); // sqrt(3·3·4)
    const b = unitwiseNorm(tf.ones([4]));
    expect(b.shape).toEqual([]);
    tf.dispose([x, n, b]);
  });

  it('needs the parameters and says how to pass them', () => {
    const t = adaptiveGradClip(0.01);
    const g = { w: tf.ones([2]) };
    expect(() => t.update(g, t.init({}), {})).toThrow(/no parameter for gradient "w".*update\(grads, state, params\)/);
    const p = { w: tf.ones([3]) };
    expect(() => t.update(g, t.init(p), p)).toThrow(/parameter "w" has shape \[3\] but its gradient has \[2\]/);
    expect(() => adaptiveGradClip(0)).toThrow('adaptiveGradClip: clipping must be a number > 0, got 0.');
    expect(() => adaptiveGradClip(0.1, { eps: -1 })).toThrow(/eps must be a number > 0, got -1/);
    tf.dispose([g.w, p.w]);
  });

  it('leaks no tensor over 500 updates', async () => {
    const g = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]), c: tf.randomNormal([3, 3, 2, 4]) };
    const p = { a: tf.randomNormal([8, 8]), b: tf.zeros([8]), c: tf.randomNormal([3, 3, 2, 4]) };
    const t = adaptiveGradClip(0.01);
    let s = t.init(p);
    await expectNoLeak(() => {
      for (let i = 0; i < 500; i++) {
        const [out, n] = t.update(g, s, p);
        s = n;
        tf.dispose(Object.values(out));
      }
    });
    tf.dispose([...Object.values(g), ...Object.values(p)]);
  });
});
