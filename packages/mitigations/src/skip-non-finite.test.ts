import * as tf from '@tensorflow/tfjs';
import { GradguardError, type StepStatistics } from '@gradguard/core';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { chain } from './chain';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';
import { optimizerSlots } from './optimizer-slots';
import { NonFiniteLimitError, skipNonFinite } from './skip-non-finite';
import { buildDeepReluMlp, mlpData, read, tensors } from './test/fixtures';
import { type GradientTransformation, disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const GOOD = { a: { v: [1, 2], shape: [2] }, b: { v: [3], shape: [] } };
const BAD = { a: { v: [1, Number.NaN], shape: [2] }, b: { v: [3], shape: [] } };
const INF = { a: { v: [1, 2], shape: [2] }, b: { v: [-Infinity], shape: [] } };

describe('skipNonFinite (the transformation)', () => {
  it('marks each step, zeroes the gradients of a skipped one, and counts consecutive and total skips on the device', async () => {
    const t = skipNonFinite({ maxConsecutive: 2 });
    let state = t.init({});
    const seen: { ok: boolean; out: Record<string, number[]>; consecutive: number; total: number }[] = [];
    for (const s of [GOOD, BAD, INF, GOOD, BAD]) {
      const g = tensors(s);
      const [out, next] = t.update(g, state, {});
      state = next;
      seen.push({
        ok: (await (t.shouldApply!(state) as tf.Tensor).data())[0] === 1,
        out: await read(out),
        consecutive: (await (state.consecutive as tf.Scalar).data())[0]!,
        total: (await (state.total as tf.Scalar).data())[0]!,
      });
      tf.dispose([...Object.values(out), ...Object.values(g)]);
    }
    expect(seen.map((s) => s.ok)).toEqual([true, false, false, true, false]);
    expect(seen.map((s) => s.consecutive)).toEqual([0, 1, 2, 0, 1]);
    expect(seen.map((s) => s.total)).toEqual([0, 1, 2, 2, 3]);
    expect(seen[0]!.out).toEqual({ a: [1, 2], b: [3] });
    expect(seen[1]!.out).toEqual({ a: [0, 0], b: [0] });
    expect(seen[2]!.out).toEqual({ a: [0, 0], b: [0] });
    // The verdict: more than maxConsecutive in a row is unrecoverable.
    expect(t.check!({ consecutive: 2, total: 2 }, 7)).toBeUndefined();
    const e = t.check!({ consecutive: 3, total: 3 }, 8);
    expect(e).toBeInstanceOf(NonFiniteLimitError);
    expect(e).toBeInstanceOf(GradguardError);
    expect((e as GradguardError).code).toBe('NON_FINITE_LIMIT');
    expect(e!.message).toMatch(/3 steps in a row \(up to step 8\).*maxConsecutive = 2.*check the inputs for NaN/);
    disposeState(state);
  });

  it('rejects a bad limit', () => {
    expect(() => skipNonFinite({ maxConsecutive: -1 })).toThrow('skipNonFinite: maxConsecutive must be an integer >= 0, got -1.');
  });
});

/** Runs the gradient sequence through `opt`, optionally guarded, and returns the variable and the slot values. */
async function runSequence(make: () => tf.Optimizer, steps: number[][], guarded: boolean, name: string, kernel: 'auto' | 'device' = 'auto') {
  const w = tf.variable(tf.tensor([0.5, -0.5]), true, name);
  const inner = make();
  const opt = guarded ? guard(inner, { transform: chain(skipNonFinite(), clipByGlobalNorm(100)), kernel }) : inner;
  const stats: StepStatistics[] = [];
  if (guarded) (opt as ReturnType<typeof guard>).onStep((s) => stats.push(s));
  for (const g of steps) {
    const grad = tf.tensor(g);
    opt.applyGradients({ [name]: grad });
    grad.dispose();
  }
  if (guarded) await (opt as ReturnType<typeof guard>).flush();
  const slots = await Promise.all(optimizerSlots(inner).map(async (v) => Array.from(await v.data())));
  const weights = Array.from(await w.data());
  opt.dispose();
  w.dispose();
  return { weights, slots, stats };
}

// Both paths: decided on the host (cpu here: the step is not applied) and on the device (snapshot, apply, where).
describe.each(['auto', 'device'] as const)('skipNonFinite inside guard (kernel %s): an exact skip', (kernel) => {
  const seqWithNaN = [[1, 2], [Number.NaN, 1], [0.5, -1], [Infinity, 0], [2, 2]];
  const seqClean = [[1, 2], [0.5, -1], [2, 2]];
  const seqZeroed = [[1, 2], [0, 0], [0.5, -1], [0, 0], [2, 2]];
  // `moves`: the optimizer keeps moving on zero gradients, so zeroing is not a skip for it (SGD and Adagrad don't).
  for (const [label, make, moves] of [
    ['adam', () => tf.train.adam(0.1), true],
    ['momentum', () => tf.train.momentum(0.1, 0.9), true],
    ['rmsprop', () => tf.train.rmsprop(0.1, 0.9, 0.5), true],
    ['sgd', () => tf.train.sgd(0.1), false],
    ['adagrad', () => tf.train.adagrad(0.1), false],
  ] as const) {
    it(`${label}: weights and optimizer slots equal a run that never saw the bad steps (zeroing would not)`, async () => {
      const skipped = await runSequence(make, seqWithNaN, true, `skip_${label}_${kernel}_a`, kernel);
      const clean = await runSequence(make, seqClean, false, `skip_${label}_${kernel}_b`);
      const zeroed = await runSequence(make, seqZeroed, false, `skip_${label}_${kernel}_c`);
      expect(skipped.weights).toEqual(clean.weights);
      expect(skipped.slots).toEqual(clean.slots);
      if (label !== 'sgd') expect(skipped.slots.length).toBeGreaterThan(0);
      if (moves) expect(zeroed.weights).not.toEqual(clean.weights); // momentum / moments move on zero gradients
      expect(skipped.stats.map((s) => s.skipped)).toEqual([false, true, false, true, false]);
      expect(skipped.stats.map((s) => s.scale)).toEqual([1, 0, 1, 0, 1]);
      expect(skipped.stats[1]!.nonFinite).toBe(1);
    });
  }

  it('a skipped FIRST step leaves the lazily created slots at their initial values', async () => {
    const skipped = await runSequence(() => tf.train.adam(0.1), [[Number.NaN, 0], [1, 2]], true, `skip_first_${kernel}_a`, kernel);
    const clean = await runSequence(() => tf.train.adam(0.1), [[1, 2]], false, `skip_first_${kernel}_b`);
    expect(skipped.weights).toEqual(clean.weights);
    expect(skipped.slots).toEqual(clean.slots);
  });
});

describe('skipNonFinite in model.fit', () => {
  /** A small MLP whose labels hold NaN in the given batches (bad data: the loss and every gradient are NaN there). */
  async function fitWithNaNLabels(badBatches: number[], transform: GradientTransformation | undefined, useCallback = false, epochs = 2) {
    const model = buildDeepReluMlp(3, 2, 8);
    const { xs, ys } = mlpData(256, 8);
    const y = Array.from(await ys.data());
    for (const b of badBatches) y[b * 32 + 5] = Number.NaN;
    const ysBad = tf.tensor2d(y, [256, 1]);
    const stats: StepStatistics[] = [];
    const stops: GradguardError[] = [];
    const guarded = guard(tf.train.adam(0.01), { model, onStep: (s) => stats.push(s), ...(transform ? { transform } : {}) });
    model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
    let error: unknown;
    try {
      await model.fit(xs, ysBad, {
        epochs,
        batchSize: 32,
        verbose: 0,
        shuffle: false,
        ...(useCallback ? { callbacks: [guarded.callback({ onStop: (e) => stops.push(e) })] } : {}),
      });
      await guarded.flush();
    } catch (e) {
      error = e;
    }
    const weightsFinite = (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
    tf.dispose([xs, ys, ysBad]);
    const skippedCount = guarded.skipped;
    guarded.dispose();
    model.dispose();
    return { stats, weightsFinite, error, stops, skippedCount };
  }

  it('survives injected NaN gradients: the bad steps are skipped, the weights stay finite, training goes on', async () => {
    const plain = await fitWithNaNLabels([2, 5], undefined);
    expect(plain.weightsFinite).toBe(false);
    const run = await fitWithNaNLabels([2, 5], skipNonFinite());
    expect(run.error).toBeUndefined();
    expect(run.weightsFinite).toBe(true);
    expect(run.stats.filter((s) => s.skipped).map((s) => s.step)).toEqual([2, 5, 10, 13]);
    expect(run.skippedCount).toBe(4);
    expect(run.stats.filter((s) => !s.skipped).every((s) => Number.isFinite(s.loss))).toBe(true);
  });

  it('gives up after too many skips in a row: the next step (and fit) throws NonFiniteLimitError', async () => {
    const run = await fitWithNaNLabels([0, 1, 2, 3, 4, 5, 6, 7], skipNonFinite({ maxConsecutive: 3 }));
    expect(run.error).toBeInstanceOf(NonFiniteLimitError);
    expect((run.error as NonFiniteLimitError).consecutive).toBe(4);
    expect(run.weightsFinite).toBe(true); // every bad step was skipped, none applied
    expect(run.stats.length).toBeLessThan(16);
  });

  it('with guarded.callback() the same run ends cleanly, like Keras TerminateOnNaN, saying why and what to try', async () => {
    const run = await fitWithNaNLabels([0, 1, 2, 3, 4, 5, 6, 7], skipNonFinite({ maxConsecutive: 3 }), true);
    expect(run.error).toBeUndefined();
    expect(run.stops).toHaveLength(1);
    expect(run.stops[0]!.code).toBe('NON_FINITE_LIMIT');
    expect(run.stops[0]!.message).toMatch(/4 steps in a row.*lower the learning rate/);
    expect(run.stats.length).toBeLessThanOrEqual(6); // stopped in the first epoch, not after 16 steps
    expect(run.weightsFinite).toBe(true);
  });

  it('with the callback and no skip or rollback, NaN reaching the weights stops training (TerminateOnNaN)', async () => {
    const run = await fitWithNaNLabels([1], clipByGlobalNorm(1), true, 3);
    expect(run.stops).toHaveLength(1);
    expect(run.stops[0]!.code).toBe('UNRECOVERABLE');
    expect(run.stops[0]!.message).toMatch(/At step 1 the loss is NaN.*skipNonFinite/);
    expect(run.stats.length).toBeLessThanOrEqual(4);
  });
});

describe('the stop message says what is non-finite', () => {
  it('a NaN loss with finite gradients does not stop the run: the weights stay finite and nothing is claimed about them', async () => {
    const w = tf.variable(tf.tensor([1, 2]), true, 'stop_loss_only_w');
    const model = { name: 'm', weights: [], layers: [], getClassName: () => 'Sequential', stopTraining: false };
    const g = guard(tf.train.sgd(0.1), {});
    const stops: GradguardError[] = [];
    const cb = g.callback({ model, onStop: (e) => stops.push(e) });
    // The loss's value is NaN, its gradient finite (a NaN in a term that does not depend on the weights, say).
    const nanValueFiniteGrad = tf.customGrad(((x: tf.Tensor) => ({
      value: tf.add(tf.sum(tf.square(x)), Number.NaN) as tf.Scalar,
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.mul(x, 2)),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const seen: StepStatistics[] = [];
    g.onStep((s) => seen.push(s));
    for (let i = 0; i < 3; i++) {
      await cb.onBatchBegin(i);
      g.minimize(() => nanValueFiniteGrad(w) as tf.Scalar);
    }
    await cb.onTrainEnd();
    expect(seen.map((s) => [Number.isNaN(s.loss), s.nonFinite])).toEqual([[true, 0], [true, 0], [true, 0]]);
    expect(stops).toEqual([]);
    expect(g.problem).toBeUndefined();
    expect(model.stopTraining).toBe(false);
    // SGD 0.1 on Σw²: w ← 0.8·w each step, the finite gradients applied three times.
    const [a, b] = Array.from(await w.data());
    expect(a).toBeCloseTo(0.8 ** 3, 6);
    expect(b).toBeCloseTo(2 * 0.8 ** 3, 6);
    g.dispose();
    w.dispose();
  });

  it('NaN gradients written into the weights stop it, naming the loss, the gradients and the weights as they are', async () => {
    const w = tf.variable(tf.tensor([1, 2]), true, 'stop_grads_w');
    const model = { name: 'm', weights: [], layers: [], getClassName: () => 'Sequential', stopTraining: false };
    const g = guard(tf.train.sgd(0.1), {});
    const stops: GradguardError[] = [];
    const cb = g.callback({ model, onStop: (e) => stops.push(e) });
    for (let i = 0; i < 3; i++) {
      await cb.onBatchBegin(i);
      g.minimize(() => tf.mul(tf.sum(w), Number.NaN) as tf.Scalar);
    }
    await cb.onTrainEnd();
    expect(stops).toHaveLength(1);
    expect(stops[0]!.message).toMatch(
      /^At step 0 the loss is NaN; 2 gradient entries are NaN\/Infinity and were applied: the weights are no longer finite and nothing can undo it\. Clip the gradients/,
    );
    expect(model.stopTraining).toBe(true);
    g.dispose();
    w.dispose();
  });
});

describe('skipNonFinite in a custom loop', () => {
  it('the limit surfaces at flush() once, then every later step throws it', async () => {
    const w = tf.variable(tf.tensor([1, 2]), true, 'skip_limit_w');
    const g = guard(tf.train.adam(0.1), { transform: skipNonFinite({ maxConsecutive: 2 }) });
    const nanLoss = () => tf.mul(tf.sum(w), Number.NaN) as tf.Scalar;
    for (let i = 0; i < 3; i++) g.minimize(nanLoss); // 3 in a row > 2: known once step 2 is read back
    await expect(g.flush()).rejects.toMatchObject({ code: 'NON_FINITE_LIMIT', consecutive: 3, step: 2 });
    await expect(g.flush()).resolves.toBeUndefined(); // reported once
    expect(() => g.minimize(nanLoss)).toThrow(NonFiniteLimitError);
    expect(g.problem).toBeInstanceOf(NonFiniteLimitError);
    expect(Array.from(await w.data())).toEqual([1, 2]); // nothing was applied
    w.dispose();
    g.dispose();
  });
});

describe('skipNonFinite: no leak', () => {
  it('leaks no tensor over 500 guarded Adam steps, a third of them skipped', async () => {
    const w = tf.variable(tf.randomNormal([16, 8]), true, 'skip_leak_w');
    const b = tf.variable(tf.zeros([8]), true, 'skip_leak_b');
    const g = guard(tf.train.adam(0.01), { transform: chain(skipNonFinite({ maxConsecutive: 5 }), clipByGlobalNorm(1)) });
    const x = tf.randomNormal([4, 16]);
    const poison = tf.scalar(Number.NaN);
    const loss = (i: number) => () => {
      const y = tf.add(tf.matMul(x, w), b);
      const l = tf.mean(tf.square(y));
      return (i % 3 === 1 ? tf.mul(l, poison) : l) as tf.Scalar;
    };
    g.minimize(loss(0)); // creates Adam's slots
    await g.flush();
    await expectNoLeak(async () => {
      for (let i = 0; i < 500; i++) g.minimize(loss(i));
      await g.flush();
    });
    expect(g.skipped).toBe(167);
    expect((await w.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([w, b, x, poison]);
    g.dispose();
  });
});
