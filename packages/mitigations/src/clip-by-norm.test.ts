import * as tf from '@tensorflow/tfjs';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByNorm } from './clip-by-norm';
import { SHAPES, applyOnce } from './test/fixtures';
import { norm } from './test/reference';
import { expectUpdatesLeakNothing } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('clipByNorm (per tensor)', () => {
  it('scales each tensor by maxNorm / ‖g‖ when above, separately, on scalar, vector, matrix, 3-D and 4-D gradients', async () => {
    const got = await applyOnce(clipByNorm(2.5), SHAPES);
    for (const [k, { v }] of Object.entries(SHAPES)) {
      const n = norm(v);
      expectClose(got[k]!, v.map((x) => (n > 2.5 ? (x * 2.5) / n : x)), 1e-6);
      expect(norm(got[k]!)).toBeCloseTo(Math.min(n, 2.5), 5);
    }
  });

  it('is per tensor, not global: each clipped tensor ends at the bound', async () => {
    const got = await applyOnce(clipByNorm(1), { a: { v: [3, 4], shape: [2] }, b: { v: [0, 10], shape: [2] } });
    expectClose(got['a']!, [0.6, 0.8], 1e-6);
    expectClose(got['b']!, [0, 1], 1e-6); // a global clip would have given [0, 10/√125]
  });

  it('leaves a norm exactly at the bound and an all-zero gradient unchanged (no NaN)', async () => {
    expect(await applyOnce(clipByNorm(5), { a: { v: [3, 4], shape: [2] } })).toEqual({ a: [3, 4] });
    expect(await applyOnce(clipByNorm(1), { z: { v: [0, 0, 0, 0], shape: [2, 1, 2] } })).toEqual({ z: [0, 0, 0, 0] });
  });

  it('documents non-finite input: a NaN tensor stays as it is, an Infinity tensor gets factor 0, others are unaffected', async () => {
    const got = await applyOnce(clipByNorm(1), {
      nan: { v: [Number.NaN, 5], shape: [2] },
      inf: { v: [Infinity, 5], shape: [2] },
      ok: { v: [3, 4], shape: [2] },
    });
    expect(got['nan']![0]).toBeNaN();
    expect(got['nan']![1]).toBe(5);
    expect(got['inf']![0]).toBeNaN();
    expect(got['inf']![1]).toBe(0);
    expectClose(got['ok']!, [0.6, 0.8], 1e-6);
  });

  it('rejects a bound that is not a positive number', () => {
    expect(() => clipByNorm(-1)).toThrow('clipByNorm: maxNorm must be a number > 0, got -1.');
  });

  it('leaks no tensor over 500 updates', async () => {
    await expectUpdatesLeakNothing(clipByNorm(0.1));
  });
});
