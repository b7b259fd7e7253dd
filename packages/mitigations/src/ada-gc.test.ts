import * as tf from '@tensorflow/tfjs';
import type { TensorFacts } from '@gradguard/core';
import { expectClose, expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AdaGcState, adaGC } from './ada-gc';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';
import { buildDeepReluMlp, mlpData } from './test/fixtures';
import { type GradientTransformation, createStepContext, disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Grads = Record<string, number[]>;
const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

/** AdaGC's Algorithm 1 with the edge rules stated in ada-gc.ts, in float64 over plain arrays: the clipped gradients. */
function adaGcReference(steps: readonly Grads[], o: { beta: number; lambdaRel: number; lambdaAbs: number; warmup: number }): Grads[] {
  const gamma = new Map<string, number>();
  return steps.map((grads, t) => {
    const out: Grads = {};
    const global = norm(Object.values(grads).flat());
    for (const [n, g] of Object.entries(grads)) {
      const gn = norm(g);
      const old = gamma.get(n);
      let h: number;
      if (t < o.warmup) {
        h = global > o.lambdaAbs ? o.lambdaAbs / global : 1;
        const c = h * gn;
        if (Number.isFinite(global) && c > 0) gamma.set(n, old === undefined ? c : Math.min(old, c));
      } else if (old === undefined) {
        h = 1;
        if (Number.isFinite(gn) && gn > 0) gamma.set(n, gn);
      } else {
        h = Math.min((o.lambdaRel * old) / gn, 1);
        const c = h * gn;
        if (Number.isFinite(c) && c > 0) gamma.set(n, o.beta * old + (1 - o.beta) * c);
      }
      out[n] = g.map((x) => x * h);
    }
    return out;
  });
}

/** Runs the steps through the transformation, on the host (guard's facts) or the device; returns the outputs. */
async function run(t: GradientTransformation<AdaGcState>, steps: readonly Grads[], host: boolean): Promise<{ outs: Grads[]; state: AdaGcState }> {
  let state = t.init({});
  const outs: Grads[] = [];
  for (const [i, s] of steps.entries()) {
    const g: tf.NamedTensorMap = {};
    const facts = new Map<tf.Tensor, TensorFacts>();
    for (const [n, v] of Object.entries(s)) {
      g[n] = tf.tensor1d(v);
      facts.set(g[n]!, { sq: v.reduce((a, x) => a + x * x, 0), nonFinite: v.filter((x) => !Number.isFinite(x)).length });
    }
    const [out, next] = t.update(g, state, {}, host ? createStepContext(i, facts) : undefined);
    state = next;
    const got: Grads = {};
    for (const [n, x] of Object.entries(out)) got[n] = Array.from(await x.data());
    outs.push(got);
    for (const n of Object.keys(out)) if (out[n] !== g[n]) out[n]!.dispose();
    tf.dispose(Object.values(g));
  }
  return { outs, state };
}

const gammaOf = async (state: AdaGcState, n: string): Promise<number> => {
  const v = state.gamma[n]!;
  return typeof v === 'number' ? v : (await v.data())[0]!;
};

describe('adaGC', () => {
  for (const host of [true, false]) {
    const where = host ? 'host' : 'device';
    it(`matches the hand-computed steps of Algorithm 1 (warm-up 2, λ_abs 1, λ_rel 1.05, β 0.98), on the ${where}`, async () => {
      const steps: Grads[] = [
        { a: [3, 4], b: [0, 12] }, // ‖g‖ 13 > 1: h = 1/13; γ_a = 5/13, γ_b = 12/13
        { a: [0.3, 0.4], b: [0, 0.6] }, // ‖g‖ 0.78: unclipped; γ_a = min(5/13, 0.5) = 5/13, γ_b = 0.6
        { a: [3, 4], b: [0, 0.3] }, // a: bound 1.05·5/13 = 0.40385 < 5: h = 0.080769; b: bound 0.63, unclipped
        { a: [0.3, 0.4], b: [0, 0] }, // a: bound 1.05·γ_a = 0.40425: h = 0.80850; b all zero: passes, γ_b kept
      ];
      const { outs, state } = await run(adaGC({ warmup: 2 }), steps, host);
      const tol = 1e-6;
      expectClose(outs[0]!['a']!, [3 / 13, 4 / 13], tol);
      expectClose(outs[0]!['b']!, [0, 12 / 13], tol);
      expectClose(outs[1]!['a']!, [0.3, 0.4], tol);
      expectClose(outs[2]!['a']!, [3 * 0.0807692307692, 4 * 0.0807692307692], tol);
      expectClose(outs[2]!['b']!, [0, 0.3], tol);
      // γ_a after step 2: 0.98 · 5/13 + 0.02 · 0.403846 = 0.3850000; step 3's bound is 1.05 · that = 0.40425.
      expectClose(outs[3]!['a']!, [0.3 * (0.40425 / 0.5), 0.4 * (0.40425 / 0.5)], tol);
      expectClose(outs[3]!['b']!, [0, 0], tol);
      expect(await gammaOf(state, 'a')).toBeCloseTo(0.98 * 0.385 + 0.02 * 0.40425, 6);
      expect(await gammaOf(state, 'b')).toBeCloseTo(0.98 * 0.6 + 0.02 * 0.3, 6); // 0.594: the zero step left it
      disposeState(state);
    });

    it(`matches the float64 reference over 160 steps with the paper's defaults (warm-up 100), spikes and zeros, on the ${where}`, async () => {
      // Three tensors of different scales; a 50× spike in one tensor every 17 steps, an all-zero tensor now and then.
      const steps: Grads[] = Array.from({ length: 160 }, (_, t) => {
        const wave = (k: number, j: number): number => Math.sin(t * 1.3 + k * 2.1 + j * 0.7) + 0.2 * Math.cos(t * 0.37 + j);
        const grads: Grads = {
          embedding: Array.from({ length: 6 }, (_, j) => 3 * wave(1, j) * (t % 17 === 5 ? 50 : 1)),
          kernel: Array.from({ length: 4 }, (_, j) => 0.2 * wave(2, j)),
          bias: t % 23 === 3 ? [0, 0] : [0.05 * wave(3, 0), 0.05 * wave(3, 1)],
        };
        return grads;
      });
      const reference = adaGcReference(steps, { beta: 0.98, lambdaRel: 1.05, lambdaAbs: 1, warmup: 100 });
      const { outs, state } = await run(adaGC(), steps, host);
      for (let t = 0; t < steps.length; t++) {
        for (const n of Object.keys(steps[t]!)) expectClose(outs[t]![n]!, reference[t]![n]!, host ? 1e-6 : 2e-5);
      }
      // The rule acts after warm-up: the spiking embedding is cut to 1.05× its EMA (≤ 5 % of the spike).
      const spikeStep = 107; // 107 % 17 === 5
      expect(norm(outs[spikeStep]!['embedding']!) / norm(steps[spikeStep]!['embedding']!)).toBeLessThan(0.05);
      // And a property of the paper's warm-up: the spikes during warm-up were clipped globally, scaling the kernel's
      // gradient by ~1/300 too, and γ keeps the minimum, so the kernel stays starved after warm-up: γ can grow by at
      // most β + (1 − β)·λ_rel = 1.001× per step.
      expect(norm(outs[spikeStep]!['kernel']!) / norm(steps[spikeStep]!['kernel']!)).toBeLessThan(0.01);
      const g = await gammaOf(state, 'kernel');
      expect(g).toBeLessThan(0.002);
      disposeState(state);
    });
  }

  it('one huge tensor does not starve the others, where global clipping does (numbers from the same step)', async () => {
    // After warm-up on steady gradients, the embedding's gradient jumps 1000×.
    const steady: Grads = { embedding: [0.54, 0.72], dense: [0.03, 0.04] }; // global norm 0.9014 < λ_abs: unclipped
    const steps: Grads[] = [...Array.from({ length: 5 }, () => steady), { embedding: [600, 800], dense: [0.03, 0.04] }];
    const { outs, state } = await run(adaGC({ warmup: 5 }), steps, true);
    const last = outs[5]!;
    expect(norm(last['dense']!)).toBeCloseTo(0.05, 6); // untouched
    expect(norm(last['embedding']!)).toBeCloseTo(1.05 * 0.9, 5); // brought to λ_rel · γ, γ = 0.9 (its steady norm)
    disposeState(state);
    const global = await run(clipByGlobalNorm(1) as GradientTransformation as GradientTransformation<AdaGcState>, steps.slice(5), true);
    expect(norm(global.outs[0]!['dense']!)).toBeLessThan(1e-4); // 0.05 / 1000: starved
  });

  it('leaves NaN as NaN and keeps it out of γ; rejects bad settings', async () => {
    const { outs, state } = await run(adaGC({ warmup: 1 }), [{ a: [3, 4] }, { a: [Number.NaN, 1] }, { a: [30, 40] }], true);
    expect(outs[1]!['a']![0]).toBeNaN();
    // Warm-up clipped step 0 to λ_abs = 1, so γ = 1; the NaN step left it there: step 2 is bounded by 1.05.
    expectClose(outs[2]!['a']!, [30 * (1.05 / 50), 40 * (1.05 / 50)], 1e-6);
    disposeState(state);
    expect(() => adaGC({ beta: 1.5 })).toThrow('adaGC: beta must be a number >= 0 <= 1, got 1.5.');
    expect(() => adaGC({ lambdaRel: 0 })).toThrow('adaGC: lambdaRel must be a number > 0, got 0.');
    expect(() => adaGC({ warmup: 2.5 })).toThrow('adaGC: warmup must be an integer >= 0, got 2.5.');
  });

  it('leaves no tensor behind over 500 device steps and 100 guarded host steps', async () => {
    // γ is made at a tensor's first step (one scalar per variable on the device): measured from the second step on.
    const t = adaGC({ warmup: 10 });
    const g = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]) };
    let state = t.init(g);
    const once = (): void => {
      const [out, next] = t.update(g, state, g);
      state = next;
      tf.dispose(Object.values(out).filter((x) => !Object.values(g).includes(x)));
    };
    once();
    await expectNoLeak(() => {
      for (let i = 0; i < 500; i++) once();
    });
    disposeState(state);
    tf.dispose(Object.values(g));
    const model = buildDeepReluMlp(1, 2, 8);
    const { xs, ys } = mlpData(32, 8);
    const guarded = guard(tf.train.adam(0.01), { model, transform: adaGC({ warmup: 10 }) });
    const step = (): void => {
      tf.tidy(() => {
        guarded.minimize(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
      });
    };
    for (let i = 0; i < 5; i++) step();
    await expectNoLeak(async () => {
      for (let i = 0; i < 100; i++) step();
      await guarded.flush();
    });
    guarded.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
