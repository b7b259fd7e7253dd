import * as tf from '@tensorflow/tfjs';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoClip } from './auto-clip';
import { SHAPES, read, tensors } from './test/fixtures';
import { norm, percentile } from './test/reference';
import { disposeState } from './transformation';
import { expectUpdatesLeakNothing } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Feeds `steps` (each a map of gradients) through `t`, returning each step's output and bound. */
async function feed(t: ReturnType<typeof autoClip>, steps: Record<string, { v: number[]; shape: number[] }>[]) {
  let state = t.init({});
  const outs: Record<string, number[]>[] = [];
  const bounds: number[] = [];
  for (const s of steps) {
    const g = tensors(s);
    const [out, next] = t.update(g, state, {});
    state = next;
    outs.push(await read(out));
    bounds.push((await state.bound.data())[0]!);
    tf.dispose([...Object.values(out), ...Object.values(g)]);
  }
  disposeState(state);
  return { outs, bounds };
}

/** The same shapes as SHAPES, scaled by k (so each step's global norm is k times the base norm). */
const scaled = (k: number) => Object.fromEntries(Object.entries(SHAPES).map(([n, { v, shape }]) => [n, { v: v.map((x) => x * k), shape }]));
const base = norm(Object.values(SHAPES).flatMap((s) => s.v));

describe('autoClip (AutoClip, Seetharaman et al. 2020)', () => {
  it('clips to the p-th percentile (numpy linear interpolation) of every global norm seen so far, on all shapes', async () => {
    const ks = [1, 4, 0.5, 2, 8, 0.25, 3, 1.5];
    for (const p of [10, 50, 90]) {
      const { outs, bounds } = await feed(autoClip({ percentile: p }), ks.map(scaled));
      const seen: number[] = [];
      ks.forEach((k, i) => {
        seen.push(k * base);
        const bound = percentile(seen, p);
        expect(bounds[i]! / bound).toBeCloseTo(1, 5);
        const f = k * base > bound ? bound / (k * base) : 1;
        for (const [n, { v }] of Object.entries(SHAPES)) expectClose(outs[i]![n]!, v.map((x) => x * k * f), 1e-5);
      });
    }
  });

  it('with a bounded history, forgets norms older than the window (a ring buffer on the device)', async () => {
    const ks = [100, 100, 100, 1, 2, 3, 4];
    const { bounds } = await feed(autoClip({ percentile: 100, history: 3 }), ks.map(scaled));
    // percentile 100 = the max of the last 3 norms.
    expectClose(bounds, [100, 100, 100, 100, 100, 3, 4].map((k) => k * base), 1e-6);
  });

  it('never clips the first step, and a norm equal to its bound passes unchanged; maxNorm caps the bound', async () => {
    const { outs } = await feed(autoClip(), [scaled(1000)]);
    expectClose(outs[0]!['vector']!, SHAPES['vector']!.v.map((x) => x * 1000), 1e-6);
    const capped = await feed(autoClip({ maxNorm: 1 }), [{ a: { v: [3, 4], shape: [2] } }]);
    expectClose(capped.outs[0]!['a']!, [0.6, 0.8], 1e-6);
  });

  it('passes an all-zero gradient without NaN, even when every recorded norm is zero', async () => {
    const z = { z: { v: [0, 0, 0], shape: [3] } };
    const { outs, bounds } = await feed(autoClip(), [z, z, { z: { v: [0, 3, 4], shape: [3] } }]);
    expect(outs.map((o) => o['z'])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]); // bound = 10th pct of [0, 0, 5] = 0
    expect(bounds).toEqual([0, 0, 0]);
  });

  it('records a non-finite norm as +Infinity: the gradient passes unchanged and later bounds stay finite', async () => {
    const { outs, bounds } = await feed(autoClip({ percentile: 50 }), [
      { a: { v: [3, 4], shape: [2] } },
      { a: { v: [Number.NaN, 1], shape: [2] } },
      { a: { v: [6, 8], shape: [2] } },
    ]);
    expect(outs[1]!['a']![0]).toBeNaN();
    expect(outs[1]!['a']![1]).toBe(1);
    expect(bounds[2]).toBeCloseTo(10, 5); // median of [5, +Inf, 10]
  });

  it('rejects bad options, naming them', () => {
    expect(() => autoClip({ percentile: 101 })).toThrow('autoClip: percentile must be a number >= 0 <= 100, got 101.');
    expect(() => autoClip({ history: 0 })).toThrow(/history must be an integer >= 1, got 0/);
    expect(() => autoClip({ maxNorm: 0 })).toThrow(/maxNorm must be a number > 0/);
  });

  it('leaks no tensor over 500 updates (history 64, wrapping the ring many times)', async () => {
    await expectUpdatesLeakNothing(autoClip({ history: 64 }), 500, (s) => {
      expect(s.count).toBe(500);
    });
  });
});
