import * as tf from '@tensorflow/tfjs';
import type { GradguardError } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RollbackEvent, guard } from './guard';
import { skipNonFinite } from './skip-non-finite';
import { trainWithSpike } from './test/fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('guard rollback', () => {
  it('an outlier batch destroys an unprotected run', async () => {
    const run = await trainWithSpike({});
    expect(run.weightsFinite).toBe(false);
    expect(run.losses.slice(0, 30).every(Number.isFinite)).toBe(true);
    expect(run.losses.at(-1)).toBeNaN();
  });

  it('restores the last good weights when the loss turns NaN, continues at a lower rate, and ends finite', async () => {
    const run = await trainWithSpike({ rollback: { every: 10, learningRateFactor: 0.5 } });
    expect(run.error).toBeUndefined();
    expect(run.weightsFinite).toBe(true);
    const events = run.guarded.rollbacks as RollbackEvent[];
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]!.detectedAt).toBeGreaterThan(30);
    expect(events[0]!.restoredTo).toBeLessThanOrEqual(30);
    expect(events[0]!.restoredTo % 10).toBe(0);
    const last = events.at(-1)!;
    expect(last.learningRate).toBeCloseTo(0.1 * 0.5 ** events.length, 12);
    // After the last restore every step is finite again and runs at the lowered rate.
    const after = run.steps.filter((s) => s.step >= last.resumedAt);
    expect(after.length).toBeGreaterThan(5);
    expect(after.every((s) => Number.isFinite(s.loss) && s.learningRate === last.learningRate)).toBe(true);
    expect(run.losses.at(-1)!).toBeLessThan(0.5); // the adding problem's baseline is 1/6: nothing learned was lost
  });

  it('with skipNonFinite in the chain, rolls back once the skips say the weights (not one batch) are broken', async () => {
    const run = await trainWithSpike({ transform: skipNonFinite({ maxConsecutive: 10 }), rollback: { every: 10 } });
    expect(run.error).toBeUndefined();
    expect(run.guarded.problem).toBeUndefined(); // the skip limit was never reached: rollback came first
    expect(run.weightsFinite).toBe(true);
    const events = run.guarded.rollbacks as RollbackEvent[];
    expect(events).toHaveLength(1);
    expect(events[0]!.detectedAt).toBeGreaterThan(30);
    expect(run.guarded.skipped).toBeGreaterThanOrEqual(2);
    expect(run.losses.at(-1)!).toBeLessThan(0.5);
  });

  it('goes back to the initial weights when the very first update diverges, and recovers at a low enough rate', async () => {
    // Radius 1.5 over T = 50: the first gradient is ~1e5, so the first SGD update at 0.1 sends step 1's loss to NaN.
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed: 1 });
    const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed: 1 });
    const guarded = guard(tf.train.sgd(0.1), { model, rollback: { learningRateFactor: 1e-3 } });
    model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
    const history = await model.fit(xs, ys, { epochs: 3, batchSize: 32, verbose: 0, shuffle: false, callbacks: [guarded.callback()] });
    await guarded.flush();
    expect(guarded.problem).toBeUndefined();
    const events = guarded.rollbacks as RollbackEvent[];
    expect(events[0]).toMatchObject({ detectedAt: 1, restoredTo: -1, resumedAt: 2 });
    expect(events.every((e) => e.restoredTo === -1)).toBe(true); // nothing after step 0 was ever good
    expect(events.at(-1)!.learningRate).toBeCloseTo(0.1 * 1e-3 ** events.length, 15);
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(model.getWeights().every((w) => w.isDisposed || (w.dataSync() as Float32Array).every(Number.isFinite))).toBe(true);
    tf.dispose([xs, ys]);
    guarded.dispose();
    model.dispose();
  });

  it('declares the run unrecoverable after maxRollbacks restores of the initial weights, and the fit callback stops it', async () => {
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed: 1 });
    const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed: 1 });
    const guarded = guard(tf.train.sgd(0.1), { model, rollback: { every: 5 } });
    model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
    const stops: GradguardError[] = [];
    const history = await model.fit(xs, ys, { epochs: 3, batchSize: 32, verbose: 0, shuffle: false, callbacks: [guarded.callback({ onStop: (e) => stops.push(e) })] });
    expect(stops).toHaveLength(1);
    expect(stops[0]!.code).toBe('UNRECOVERABLE');
    expect(stops[0]!.message).toMatch(/rollback: at step \d+ the loss is NaN again; the last good weights were restored 3 times.*down to learning rate 0\.0125.*Lower the base learning rate/);
    expect((guarded.rollbacks as RollbackEvent[]).map((e) => e.restoredTo)).toEqual([-1, -1, -1]);
    expect(history.epoch.length).toBe(1); // stopped inside the first epoch
    await guarded.flush(); // the callback reported it: flush does not throw it again
    tf.dispose([xs, ys]);
    guarded.dispose();
    model.dispose();
  });

  it('has no good snapshot when the initial weights already give a NaN loss; without the callback the next step throws', async () => {
    const model = buildSimpleRnn({ sequenceLength: 10, seed: 1 });
    const kernel = model.layers.at(-1)!.getWeights()[0]!;
    model.layers.at(-1)!.setWeights([tf.fill(kernel.shape, Number.NaN), ...model.layers.at(-1)!.getWeights().slice(1)]);
    const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 320, seed: 1 });
    const guarded = guard(tf.train.sgd(0.1), { model, rollback: true });
    model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
    await expect(model.fit(xs, ys, { epochs: 3, batchSize: 32, verbose: 0, shuffle: false })).rejects.toMatchObject({ code: 'UNRECOVERABLE' });
    expect(guarded.problem?.message).toMatch(/rollback: at step 0 the loss is NaN, and no good snapshot has been kept yet/);
    expect(guarded.rollbacks).toEqual([]);
    tf.dispose([xs, ys]);
    guarded.dispose();
    model.dispose();
  });

  it('validates its options', () => {
    expect(() => guard(tf.train.sgd(0.1), { rollback: { every: 0 } })).toThrow('guard: rollback.every must be an integer >= 1, got 0.');
    expect(() => guard(tf.train.sgd(0.1), { rollback: { learningRateFactor: 2 } })).toThrow(/learningRateFactor must be a number > 0 <= 1/);
  });

  it('leaks no tensor over 500 steps with snapshots every 7 steps and repeated restores', async () => {
    const w = tf.variable(tf.tensor([1, 1]), true, 'rollback_leak');
    const g = guard(tf.train.adam(0.01), { rollback: { every: 7, maxRollbacks: 1000 } });
    const poison = tf.scalar(Number.NaN);
    const loss = (i: number) => () => {
      const l = tf.sum(tf.square(w));
      return (i % 50 === 49 ? tf.mul(l, poison) : l) as tf.Scalar;
    };
    for (let i = 0; i < 20; i++) g.minimize(loss(i));
    await g.flush();
    await expectNoLeak(async () => {
      for (let i = 0; i < 500; i++) {
        g.minimize(loss(i));
        if (i % 10 === 0) await g.flush(); // let restores happen between steps, as in model.fit
      }
      await g.flush();
    });
    expect(g.rollbacks.length).toBeGreaterThanOrEqual(9);
    expect((await w.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([w, poison]);
    g.dispose();
  });
});
