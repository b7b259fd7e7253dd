import * as tf from '@tensorflow/tfjs';
import type { StepStatistics, TensorFacts } from '@gradguard/core';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { chain } from './chain';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';
import { optimizerSlots } from './optimizer-slots';
import { type SkipOnSpikeState, skipOnSpike } from './skip-on-spike';
import { buildDeepReluMlp, mlpData } from './test/fixtures';
import { type GradientTransformation, createStepContext, disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * OLMo-core's rule written as its Python reads (lists of past values, popped from the front), in float64, as an
 * independent reference: which steps are skipped. Non-finite values are a skip and stay out of the lists (our one
 * documented difference).
 */
function skipReference(series: readonly { loss?: number; norm: number }[], window: number, sigma: number, minSamples: number): boolean[] {
  const lossHist: (number | undefined)[] = [];
  const normHist: (number | undefined)[] = [];
  const spike = (hist: readonly (number | undefined)[], x: number): boolean => {
    const xs = hist.filter((v): v is number => v !== undefined);
    if (xs.length + 1 < minSamples) return false;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    return !(x - mean <= sigma * std);
  };
  return series.map(({ loss, norm }) => {
    const lossSkip = loss !== undefined && (!Number.isFinite(loss) || spike(lossHist, loss));
    const skip = lossSkip || !Number.isFinite(norm) || spike(normHist, norm);
    lossHist.push(loss !== undefined && Number.isFinite(loss) ? loss : undefined);
    normHist.push(Number.isFinite(norm) ? norm : undefined);
    while (lossHist.length > window) lossHist.shift();
    while (normHist.length > window) normHist.shift();
    return skip;
  });
}

/**
 * Runs a scripted sequence of (loss, global norm) through the transformation: each step's gradient is one tensor
 * [norm, 0] (so its global norm is `norm`). `host`: guard's context with the measured facts (decided on the host);
 * otherwise the device path, given the loss through a context without facts. Returns whether each step may apply.
 */
async function runScripted(
  t: GradientTransformation<SkipOnSpikeState>,
  series: readonly { loss?: number; norm: number }[],
  host: boolean,
): Promise<{ applied: boolean[]; zeroed: boolean[]; skipped: number }> {
  let state = t.init({});
  const applied: boolean[] = [];
  const zeroed: boolean[] = [];
  for (const [i, { loss, norm }] of series.entries()) {
    const g = tf.tensor1d([norm, 0]);
    const l = loss === undefined ? undefined : tf.scalar(loss);
    const facts = new Map<tf.Tensor, TensorFacts>([[g, { sq: norm * norm, nonFinite: Number.isFinite(norm) ? 0 : 1 }]]);
    const context = createStepContext(i, host ? facts : undefined, l);
    const [out, next] = t.update({ g }, state, {}, context);
    state = next;
    const ok = t.shouldApply!(state);
    expect(typeof ok).toBe(host ? 'boolean' : 'object');
    applied.push(typeof ok === 'boolean' ? ok : (await (ok as tf.Tensor).data())[0] === 1);
    zeroed.push((await out['g']!.data())[0] === 0);
    if (out['g'] !== g) out['g']!.dispose();
    tf.dispose([g, ...(l ? [l] : [])]);
  }
  const s = state.skipped;
  const skipped = typeof s === 'number' ? s : (await s.data())[0]!;
  disposeState(state);
  return { applied, zeroed, skipped };
}

// window 4, sigma 2, minSamples 3: the rule acts once 2 earlier finite values are known.
const HAND = [
  { loss: 10, norm: 4 }, //  0: too few values: applied
  { loss: 12, norm: 6 }, //  1: too few values: applied
  { loss: 11, norm: 5 }, //  2: loss vs [10, 12]: μ 11, s √2, 0 ≤ 2.83; norm vs [4, 6]: 0 ≤ 2.83: applied
  { loss: 30, norm: 5 }, //  3: loss vs [10, 12, 11]: μ 11, s 1, 19 > 2: SKIPPED (and 30 enters the window)
  { loss: 11, norm: 50 }, // 4: norm vs [4, 6, 5, 5]: μ 5, s √(2/3) = 0.816, 45 > 1.63: SKIPPED
  { loss: Number.NaN, norm: 5 }, // 5: a NaN loss: SKIPPED, kept out of the window
  { loss: 12, norm: 7 }, //  6: loss vs [11, 11, 30]: μ 17.3, below; norm vs [50, 5, 5, 5]: μ 16.25, below: applied
  { loss: 40, norm: Infinity }, // 7: an infinite norm: SKIPPED
  { loss: 13, norm: 6 }, //  8: loss vs [11, 12, 40]: μ 21, below; norm vs [50, 5, 7]: below: applied
  { loss: 13, norm: 6 }, //  9: loss vs [12, 40, 13] (the NaN slot left), μ 21.7, below; norm vs [5, 7, 6]: μ 6, 0 ≤ 2: applied
];
const HAND_APPLIED = [true, true, true, false, false, false, true, false, true, true];

describe('skipOnSpike (the rule)', () => {
  for (const host of [true, false]) {
    it(`skips the hand-computed steps of a scripted sequence, decided on the ${host ? 'host' : 'device'}`, async () => {
      const run = await runScripted(skipOnSpike({ window: 4, sigma: 2, minSamples: 3 }), HAND, host);
      expect(run.applied).toEqual(HAND_APPLIED);
      expect(run.zeroed).toEqual(HAND_APPLIED.map((a) => !a)); // a skipped step hands on zero gradients
      expect(run.skipped).toBe(4);
      expect(skipReference(HAND, 4, 2, 3).map((s) => !s)).toEqual(HAND_APPLIED);
    });

    it(`never skips before minSamples values are known, and a constant history makes any rise a spike (${host ? 'host' : 'device'})`, async () => {
      const t = skipOnSpike({ window: 8, sigma: 6, minSamples: 4 });
      // Step 1 is 1000× the first but only 2 values are known; from step 3 on, 3 earlier values are.
      const seq = [{ loss: 1, norm: 1 }, { loss: 1000, norm: 1000 }, { loss: 1, norm: 1 }, { loss: 1, norm: 1 }];
      expect((await runScripted(t, seq, host)).applied).toEqual([true, true, true, true]);
      // Equal losses: s = 0, so anything above the mean is skipped and anything at or below it applied.
      const flat = [1, 1, 1, 1, 1.001, 1, 0.5].map((loss) => ({ loss, norm: 1 }));
      expect((await runScripted(t, flat, host)).applied).toEqual([true, true, true, true, false, true, true]);
    });
  }

  it('agrees with the reference on 600 noisy steps with 12 injected spikes, OLMo-core defaults (window 128, σ 6), both paths', async () => {
    // A deterministic noisy series: a slow downward trend, ±10 % noise, a spike of 3–30× every 50 steps, one NaN loss.
    const series = Array.from({ length: 600 }, (_, i) => {
      const noise = (k: number): number => 1 + 0.1 * Math.sin(i * 12.9898 + k * 78.233) * Math.cos(i * 4.1414 + k);
      const spike = i % 50 === 49 ? 3 + (i % 7) * 4 : 1;
      const norm = (2 - i / 600) * noise(1) * (i % 100 === 49 ? spike : 1);
      const loss = i === 333 ? Number.NaN : (1 - i / 1200) * noise(2) * (i % 100 === 99 ? spike : 1);
      return { loss, norm };
    });
    const reference = skipReference(series, 128, 6, 64);
    const skippedSteps = reference.flatMap((s, i) => (s ? [i] : []));
    // Every injected spike after the 64-value warm-up and the NaN, except two: the 27× norm spike at 349 enters the
    // window, as in OLMo-core, and widens it enough that the 3× one at 399 and the 7× one at 449 pass. Nothing else.
    expect(skippedSteps).toEqual([99, 149, 199, 249, 299, 333, 349, 499, 549, 599]);
    for (const host of [true, false]) {
      const run = await runScripted(skipOnSpike(), series, host);
      expect(run.applied.flatMap((a, i) => (a ? [] : [i]))).toEqual(skippedSteps);
    }
  });

  it('judges the norm alone when no loss is given', async () => {
    const seq = [4, 6, 5, 40, 5].map((norm) => ({ norm }));
    expect((await runScripted(skipOnSpike({ window: 4, sigma: 2, minSamples: 3 }), seq, true)).applied).toEqual([true, true, true, false, true]);
  });

  it('rejects bad settings, naming the value', () => {
    expect(() => skipOnSpike({ window: 1 })).toThrow('skipOnSpike: window must be an integer >= 2, got 1.');
    expect(() => skipOnSpike({ sigma: 0 })).toThrow('skipOnSpike: sigma must be a number > 0, got 0.');
    expect(() => skipOnSpike({ window: 8, minSamples: 10 })).toThrow('skipOnSpike: minSamples must be an integer >= 3 <= 9, got 10.');
    expect(() => skipOnSpike({ windw: 8 } as never)).toThrow(/windw/);
  });

  it('leaves no tensor behind over 300 steps on either path', async () => {
    const series = Array.from({ length: 300 }, (_, i) => ({ loss: 1 + (i % 5) * 0.1 + (i % 37 === 36 ? 50 : 0), norm: 2 + (i % 3) * 0.2 }));
    // window 16: the default minSamples is capped at 17; the spikes at 36, 73, ..., 295 are skipped.
    const expected = skipReference(series, 16, 6, 17).filter(Boolean).length;
    expect(expected).toBe(8);
    for (const host of [true, false]) {
      const t = skipOnSpike({ window: 16 });
      await expectNoLeak(async () => {
        const run = await runScripted(t, series, host);
        expect(run.skipped).toBe(expected);
      });
    }
  });
});

/**
 * A small MLP trained step by step with momentum (whose velocity slot would carry a spike forward); batch `spikeAt`
 * (when given) has its targets multiplied by 1000. Returns the weights, the optimizer's slots and the losses.
 */
async function trainMlp(seed: number, batches: number[], transform: GradientTransformation | undefined, kernel: 'auto' | 'device', spikeAt?: number) {
  const model = buildDeepReluMlp(seed, 2, 8);
  // Tame the initialization (N(0, 1) kernels) so that the run is healthy without a spike.
  const tamed = model.getWeights().map((w) => (w.rank === 2 ? tf.mul(w, 0.35) : w.clone()));
  model.setWeights(tamed);
  tf.dispose(tamed);
  const { xs, ys } = mlpData(32 * 90, 8);
  const inner = tf.train.momentum(0.02, 0.9);
  const stats: StepStatistics[] = [];
  const guarded = guard(inner, { model, kernel, onStep: (s) => stats.push(s), ...(transform ? { transform } : {}) });
  const losses: number[] = [];
  for (const b of batches) {
    const cost = tf.tidy(() => {
      const x = xs.slice([b * 32, 0], [32, 8]);
      const y = ys.slice([b * 32, 0], [32, 1]);
      const target = b === spikeAt ? tf.mul(y, 1000) : y;
      return guarded.minimize(() => tf.losses.meanSquaredError(target, model.apply(x) as tf.Tensor) as tf.Scalar, true)!;
    });
    losses.push((await cost.data())[0]!);
    cost.dispose();
  }
  await guarded.flush();
  const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
  const slots = await Promise.all(optimizerSlots(inner).map(async (v) => Array.from(await v.data())));
  const probe = await tf.tidy(() => tf.losses.meanSquaredError(ys.slice([0, 0], [256, 1]), model.predict(xs.slice([0, 0], [256, 8])) as tf.Tensor)).data();
  tf.dispose([xs, ys]);
  guarded.dispose();
  model.dispose();
  return { weights, slots, losses, stats, evalLoss: probe[0]! };
}

describe.each(['auto', 'device'] as const)('skipOnSpike inside guard on a real model (kernel %s)', (kernel) => {
  // 70 healthy batches (the default window needs 64 values), the outlier batch, then 8 more healthy ones.
  const before = Array.from({ length: 70 }, (_, i) => i);
  const after = Array.from({ length: 8 }, (_, i) => 71 + i);
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: the outlier batch derails the unprotected run; skipped, weights and momentum equal a run without it`, async () => {
      const withSpike = [...before, 70, ...after];
      const withoutSpike = [...before, ...after];
      const plain = await trainMlp(seed, withSpike, undefined, kernel, 70);
      const clean = await trainMlp(seed, withoutSpike, undefined, kernel);
      const skipped = await trainMlp(seed, withSpike, chain(skipOnSpike(), clipByGlobalNorm(1e6)), kernel, 70);
      // The spike is real: the loss of that batch is ~10⁶× the others, and the unprotected run ends far worse.
      expect(plain.losses[70]! / plain.losses[69]!).toBeGreaterThan(1e4);
      expect(plain.evalLoss < 100 * clean.evalLoss).toBe(false); // 100× worse, or NaN
      expect(clean.evalLoss).toBeLessThan(clean.losses[0]!); // the clean run learns
      // Only that step is skipped; afterwards the run is, bit for bit, the run that never saw the batch.
      expect(skipped.stats.filter((s) => s.skipped).map((s) => s.step)).toEqual([70]);
      expect(skipped.weights).toEqual(clean.weights);
      expect(skipped.slots).toEqual(clean.slots);
      expect(skipped.slots.length).toBeGreaterThan(0);
      expect(skipped.evalLoss).toBe(clean.evalLoss);
    });
  }

  it('leaves tf.memory().numTensors unchanged across 100 guarded steps', async () => {
    const model = buildDeepReluMlp(1, 2, 8);
    const { xs, ys } = mlpData(32, 8);
    const guarded = guard(tf.train.adam(0.01), { model, kernel, transform: skipOnSpike({ window: 16 }) });
    const step = (): void => {
      tf.tidy(() => {
        guarded.minimize(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
      });
    };
    for (let i = 0; i < 5; i++) step(); // the optimizer's slots are made at the first step
    await guarded.flush();
    await expectNoLeak(async () => {
      for (let i = 0; i < 100; i++) step();
      await guarded.flush();
    });
    guarded.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
