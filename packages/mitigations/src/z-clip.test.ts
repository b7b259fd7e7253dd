import * as tf from '@tensorflow/tfjs';
import { expectClose, expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { zClip } from './z-clip';
import { SHAPES, read, tensors } from './test/fixtures';
import { norm, zClipReference } from './test/reference';
import { disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const scaled = (k: number) => Object.fromEntries(Object.entries(SHAPES).map(([n, { v, shape }]) => [n, { v: v.map((x) => x * k), shape }]));
const base = norm(Object.values(SHAPES).flatMap((s) => s.v));

async function feed(t: ReturnType<typeof zClip>, steps: Record<string, { v: number[]; shape: number[] }>[]) {
  let state = t.init({});
  const outs: Record<string, number[]>[] = [];
  const scales: number[] = [];
  const means: number[] = [];
  for (const s of steps) {
    const g = tensors(s);
    const [out, next] = t.update(g, state, {});
    state = next;
    outs.push(await read(out));
    scales.push((await state.scale.data())[0]!);
    means.push((await state.mean.data())[0]!);
    for (const k of Object.keys(out)) if (out[k] !== g[k]) out[k]!.dispose();
    tf.dispose(Object.values(g));
  }
  disposeState(state);
  return { outs, scales, means };
}

describe('zClip (ZClip, Kumar et al. 2025)', () => {
  it('matches the z-score / reciprocal-clipping / EMA-of-clipped-norm reference over 40 steps with spikes, on all shapes', async () => {
    const ks = Array.from({ length: 40 }, (_, t) => 1 + 0.2 * Math.sin(t)).map((k, t) => (t === 12 || t === 25 ? k * 6 : t === 26 ? k * 3 : k));
    const { outs, scales } = await feed(zClip({ warmup: 10 }), ks.map(scaled));
    const want = zClipReference(
      ks.map((k) => k * base),
      2.5,
      0.97,
      10,
    );
    expectClose(scales, want, 1e-5);
    expect(want.filter((s) => s < 1).length).toBeGreaterThanOrEqual(2); // the spikes really were clipped
    expect(scales.slice(0, 10)).toEqual(Array(10).fill(1)); // nothing clipped during warm-up, spike at t=12 is after it
    ks.forEach((k, i) => {
      for (const [n, { v }] of Object.entries(SHAPES)) expectClose(outs[i]![n]!, v.map((x) => x * k * want[i]!), 1e-5);
    });
  });

  it('during warm-up passes gradients through, or clips them to maxNorm when given (ZClip max_grad_norm)', async () => {
    const plain = await feed(zClip({ warmup: 3 }), [scaled(100)]);
    expectClose(plain.outs[0]!['vector']!, SHAPES['vector']!.v.map((x) => x * 100), 1e-6);
    const capped = await feed(zClip({ warmup: 3, maxNorm: 1 }), [{ a: { v: [3, 4], shape: [2] } }, { a: { v: [0.3, 0.4], shape: [2] } }]);
    expectClose(capped.outs[0]!['a']!, [0.6, 0.8], 1e-6);
    expectClose(capped.outs[1]!['a']!, [0.3, 0.4], 1e-6);
  });

  it('with zero variance clips any norm above the mean to the mean; all-zero gradients give no NaN', async () => {
    const a = { a: { v: [3, 4], shape: [2] } };
    const { outs, scales } = await feed(zClip({ warmup: 2 }), [a, a, { a: { v: [6, 8], shape: [2] } }, a]);
    expectClose(outs[2]!['a']!, [3, 4], 1e-6);
    expect(scales).toEqual([1, 1, 0.5, 1]);
    const z = { z: { v: [0, 0], shape: [2] } };
    const zero = await feed(zClip({ warmup: 2 }), [z, z, z]);
    expect(zero.outs.flatMap((o) => o['z'])).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('keeps non-finite norms out of its statistics: NaN passes unclipped and the mean is unchanged', async () => {
    const a = (k: number) => ({ a: { v: [3 * k, 4 * k], shape: [2] } });
    const { outs, means } = await feed(zClip({ warmup: 2 }), [a(1), a(1.2), { a: { v: [Number.NaN, 1], shape: [2] } }, a(1)]);
    expect(outs[2]!['a']![0]).toBeNaN();
    expect(means[2]).toBeCloseTo(means[1]!, 6);
    expect(Number.isFinite(means[3])).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => zClip({ zThreshold: 0 })).toThrow('zClip: zThreshold must be a number > 0, got 0.');
    expect(() => zClip({ alpha: 1.5 })).toThrow(/alpha must be a number >= 0 <= 1/);
    expect(() => zClip({ warmup: 0.5 })).toThrow(/warmup must be an integer >= 1/);
  });

  it('leaks no tensor over 500 updates', async () => {
    const g = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]) };
    const t = zClip({ warmup: 5, maxNorm: 1 });
    let s = t.init(g);
    await expectNoLeak(() => {
      for (let i = 0; i < 500; i++) {
        const [out, n] = t.update(g, s, g);
        s = n;
        for (const k of Object.keys(out)) if (out[k] !== g[k as keyof typeof g]) out[k]!.dispose();
      }
    });
    disposeState(s);
    tf.dispose(Object.values(g));
  });
});
