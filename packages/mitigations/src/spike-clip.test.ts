import * as tf from '@tensorflow/tfjs';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { spikeClip } from './spike-clip';
import { SHAPES, read, tensors } from './test/fixtures';
import { spikeClipReference } from './test/reference';
import { disposeState } from './transformation';
import { expectUpdatesLeakNothing } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function feed(t: ReturnType<typeof spikeClip>, steps: Record<string, { v: number[]; shape: number[] }>[]) {
  let state = t.init(tensors(Object.fromEntries(Object.entries(steps[0]!).map(([k, s]) => [k, { v: s.v.map(() => 0), shape: s.shape }]))));
  const outs: Record<string, number[]>[] = [];
  for (const s of steps) {
    const g = tensors(s);
    const [out, next] = t.update(g, state, {});
    state = next;
    outs.push(await read(out));
    tf.dispose([...Object.values(out), ...Object.values(g)]);
  }
  disposeState(state);
  return outs;
}

describe('spikeClip (SPAM-style, ICLR 2025)', () => {
  it('matches the per-coordinate reference (g² > θ·v̂ → sign(g)·sqrt(θ·v̂)) over 12 steps with spikes, on all shapes', async () => {
    const ks = Array.from({ length: 12 }, (_, t) => (t === 5 ? 400 : t === 9 ? -50 : 1 + 0.1 * t));
    const steps = ks.map((k, t) => Object.fromEntries(Object.entries(SHAPES).map(([n, { v, shape }]) => [n, { v: v.map((x, i) => x * k * (1 + 0.05 * ((i + t) % 3))), shape }])));
    const outs = await feed(spikeClip({ threshold: 50, beta2: 0.9 }), steps);
    for (const n of Object.keys(SHAPES)) {
      const want = spikeClipReference(steps.map((s) => s[n]!.v), 50, 0.9);
      outs.forEach((o, t) => expectClose(o[n]!, want[t]!, 1e-5));
    }
    // The spike at t = 5 really was clipped, and nothing else in the first 5 steps was.
    expect(Math.abs(outs[5]!['vector']![1]!)).toBeLessThan(400);
    expectClose(outs[1]!['vector']!, steps[1]!['vector']!.v, 1e-6);
  });

  it('uses the paper default θ = 5000: only a coordinate above ~70× its RMS is clipped', async () => {
    for (const spike of [60, 100]) {
      const steps = [...Array(20).fill(1), spike].map((k: number) => ({ w: { v: [k, 1], shape: [2] } }));
      const outs = await feed(spikeClip(), steps);
      const want = spikeClipReference(steps.map((s) => s.w.v), 5000, 0.999);
      outs.forEach((o, t) => expectClose(o['w']!, want[t]!, 1e-5));
      // v̂ = 1 after twenty 1s: 60 < sqrt(5000) ≈ 70.71 is kept, 100 is clipped to 70.71.
      expect(outs[20]!['w']![0]).toBeCloseTo(spike === 60 ? 60 : Math.sqrt(5000), 3);
    }
  });

  it('never clips the first step; zero gradients stay zero; Infinity is clipped to a finite value, NaN passes', async () => {
    const outs = await feed(spikeClip({ threshold: 4 }), [
      { w: { v: [1e6, 0, 2], shape: [3] } },
      { w: { v: [Infinity, 0, Number.NaN], shape: [3] } },
      { w: { v: [1, 0, 2], shape: [3] } },
    ]);
    expect(outs[0]!['w']).toEqual([1e6, 0, 2]);
    // v̂ after step 0 = g0², so the Infinity is clipped to sqrt(4·1e12) = 2e6.
    expect(outs[1]!['w']![0]).toBeCloseTo(2e6, -1);
    expect(outs[1]!['w']![1]).toBe(0);
    expect(outs[1]!['w']![2]).toBeNaN();
    expect(outs[2]!['w']!.every(Number.isFinite)).toBe(true); // NaN kept out of v
  });

  it('leaves a coordinate exactly at the threshold unchanged (g² = θ·v̂ is not a spike)', async () => {
    // β₂ = 0.5 makes v̂ exact in float32: after g = 2, v = 0.5·4 = 2 and v̂ = 2 / (1 − 0.5) = 4; θ = 4 → θ·v̂ = 16.
    const outs = await feed(spikeClip({ threshold: 4, beta2: 0.5 }), [
      { w: { v: [2, 2], shape: [2] } },
      { w: { v: [4, -4.5], shape: [2] } },
    ]);
    expect(outs[1]!['w']).toEqual([4, -4]);
  });

  it('rejects bad options', () => {
    expect(() => spikeClip({ threshold: 0 })).toThrow('spikeClip: threshold must be a number > 0, got 0.');
    expect(() => spikeClip({ beta2: 1 })).toThrow(/beta2 must be a number >= 0 <= 0.999999, got 1/);
  });

  it('leaks no tensor over 500 updates', async () => {
    await expectUpdatesLeakNothing(spikeClip());
  });
});
