import * as tf from '@tensorflow/tfjs';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByValue } from './clip-by-value';
import { SHAPES, applyOnce } from './test/fixtures';
import { expectUpdatesLeakNothing } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('clipByValue', () => {
  it('equals min(max(g, −limit), limit) entry-wise on scalar, vector, matrix, 3-D and 4-D gradients', async () => {
    const got = await applyOnce(clipByValue(1.5), SHAPES);
    for (const [k, { v }] of Object.entries(SHAPES)) expectClose(got[k]!, v.map((x) => Math.min(Math.max(x, -1.5), 1.5)), 1e-6);
    expect(got['scalar']).toEqual([1.5]);
    expect(got['vector']).toEqual([1, -1.5, 1.5]);
  });

  it('leaves entries exactly at ±limit and an all-zero gradient unchanged', async () => {
    expect(await applyOnce(clipByValue(2), { a: { v: [2, -2, 1], shape: [3] } })).toEqual({ a: [2, -2, 1] });
    expect(await applyOnce(clipByValue(2), { z: { v: [0, 0, 0, 0], shape: [2, 2] } })).toEqual({ z: [0, 0, 0, 0] });
  });

  it('documents non-finite entries: ±Infinity becomes ±limit, NaN stays NaN, other entries are untouched', async () => {
    const got = await applyOnce(clipByValue(1), { a: { v: [Infinity, -Infinity, Number.NaN, 0.5], shape: [4] } });
    expect(got['a']!.slice(0, 2)).toEqual([1, -1]);
    expect(got['a']![2]).toBeNaN();
    expect(got['a']![3]).toBe(0.5);
  });

  it('rejects a limit that is not a positive number, naming it', () => {
    expect(() => clipByValue(0)).toThrow('clipByValue: limit must be a number > 0, got 0.');
    expect(() => clipByValue('1' as never)).toThrow(/got "1"/);
  });

  it('leaks no tensor over 500 updates', async () => {
    await expectUpdatesLeakNothing(clipByValue(0.1));
  });
});
