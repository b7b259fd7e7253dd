import * as tf from '@tensorflow/tfjs';
import { GradguardError, type StepStatistics, createMonitor } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { guard } from './guard';
import { guardModel } from './guard-model';
import type { GuardedOptimizer } from './guard-types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const finite = async (model: tf.LayersModel): Promise<boolean> =>
  (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);

describe('guardModel: guarding a compiled model after the fact', () => {
  it("replaces a string optimizer ('adam') with a guard of the same Adam, layers attached, owned by the model", async () => {
    const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 64, seed: 2 });
    const base = tf.memory().numTensors;
    const model = buildSimpleRnn({ sequenceLength: 10, seed: 2 });
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const steps: StepStatistics[] = [];
    const guarded = guardModel(model, { onStep: (s) => steps.push(s) });
    expect(model.optimizer).toBe(guarded);
    expect(guarded.inner.getClassName()).toBe('Adam');
    expect(guarded.inner.getConfig()).toMatchObject({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    await model.fit(xs, ys, { epochs: 3, batchSize: 16, verbose: 0, shuffle: false });
    await guarded.flush();
    // 64 samples / 16 = 4 batches × 3 epochs, every one through the guard, attributed to the model's layers.
    expect(guarded.step).toBe(12);
    expect(steps.map((s) => s.step)).toEqual([...Array(12).keys()]);
    expect(steps[0]!.layers.map((l) => l.layer)).toEqual(['rnn', 'head']);
    const during = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 5, batchSize: 16, verbose: 0, shuffle: false });
    await guarded.flush();
    expect(tf.memory().numTensors).toBe(during); // 20 more steps, nothing leaked
    model.dispose(); // the model made Adam from its name, so it still disposes it (and its moments) through the guard
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(base - 2);
  });

  it('trains the same weights as the unguarded model when it only watches (same inner optimizer, same steps)', async () => {
    const run = async (wrap: boolean) => {
      const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 64, seed: 3 });
      const model = buildSimpleRnn({ sequenceLength: 10, seed: 3 });
      model.compile({ optimizer: 'rmsprop', loss: 'meanSquaredError' });
      if (wrap) guardModel(model, { monitor: createMonitor(), print: 'none' });
      await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
      const w = await Promise.all(model.getWeights().map((t) => t.data()));
      model.dispose();
      tf.dispose([xs, ys]);
      return w.map((a) => Array.from(a));
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('watching the exploding ReLU RNN changes none of its steps: the same losses, NaN included, and the same weights', async () => {
    // `gradguard run`'s example script (orthogonal gain 1.5, T = 50, SGD 0.1), unshuffled: per-batch losses compared.
    const run = async (wrap: boolean) => {
      const model = tf.sequential();
      model.add(tf.layers.simpleRNN({ units: 32, inputShape: [50, 2], activation: 'relu', name: 'rnn', recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 1 }), kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
      model.add(tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: 101 }) }));
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const guarded = wrap ? guardModel(model, { monitor: createMonitor(), print: 'none' }) : undefined;
      const xs = tf.randomUniform([128, 50, 2], 0, 1, 'float32', 1);
      const ys = tf.randomUniform([128, 1], 0, 1, 'float32', 2);
      const losses: number[] = [];
      await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false, callbacks: { onBatchEnd: async (_b, logs) => void losses.push(logs!.loss as number) } });
      await guarded?.flush();
      const w = await Promise.all(model.getWeights().map(async (t) => Array.from(await t.data())));
      const diagnoses = guarded ? (guarded.monitor?.diagnoses.map((d) => d.problem) ?? []) : [];
      model.dispose();
      tf.dispose([xs, ys]);
      return { losses, w, diagnoses };
    };
    const watched = await run(true);
    const plain = await run(false);
    expect(plain.losses.some((l) => Number.isNaN(l))).toBe(true); // it really explodes
    expect(watched.losses).toEqual(plain.losses);
    expect(watched.w).toEqual(plain.w);
    expect(watched.diagnoses).toContain('non-finite');
  });

  it.each([1, 2, 3])('the exploding RNN (gain 1.5, SGD 0.1, seed %i): NaN unguarded, finite when guarded after compile with globalClipnorm 1', async (seed) => {
    const train = async (clip: boolean) => {
      const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed });
      const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 160, seed });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const monitor = createMonitor();
      const guarded = guardModel(model, { monitor, print: 'none', ...(clip ? { globalClipnorm: 1 } : {}) });
      const h = await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
      await guarded.flush();
      const ok = await finite(model);
      const problems = monitor.diagnoses.map((d) => d.problem);
      model.dispose();
      tf.dispose([xs, ys]);
      return { ok, loss: (h.history.loss as number[]).at(-1)!, problems };
    };
    const plain = await train(false);
    expect(plain.ok).toBe(false);
    expect(Number.isFinite(plain.loss)).toBe(false);
    expect(plain.problems).toContain('exploding-gradient');
    const clipped = await train(true);
    expect(clipped.ok).toBe(true);
    expect(Number.isFinite(clipped.loss)).toBe(true);
  });

  it('is idempotent: no options or the same option values return the same guard; other options are an error', () => {
    const model = buildSimpleRnn({ sequenceLength: 5, seed: 1 });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const monitor = createMonitor();
    const g = guardModel(model, { monitor, statsEvery: 2 });
    expect(guardModel(model)).toBe(g);
    expect(guardModel(model, { statsEvery: 2, monitor })).toBe(g);
    expect(() => guardModel(model, { statsEvery: 3 })).toThrowError(/model "simple_rnn_model" is already guarded with other options/);
    expect(model.optimizer).toBe(g);
    model.dispose();
  });

  it('takes a model compiled with guard(...) as it is, and refuses to guard it a second time with options', () => {
    const model = buildSimpleRnn({ sequenceLength: 5, seed: 1 });
    const mine = guard('adam');
    model.compile({ optimizer: mine, loss: 'meanSquaredError' });
    expect(guardModel(model)).toBe(mine);
    const again = buildSimpleRnn({ sequenceLength: 5, seed: 1 });
    again.compile({ optimizer: guard('adam'), loss: 'meanSquaredError' });
    const e = (() => {
      try {
        guardModel(again, { globalClipnorm: 1 });
      } catch (err) {
        return err as GradguardError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(GradguardError);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/already guarded \(compiled with guard\(\.\.\.\)\)/);
    model.dispose();
    again.dispose();
    mine.dispose();
  });

  it('says how to fix an uncompiled model, a non-model and a mismatched options.model', () => {
    const model = buildSimpleRnn({ sequenceLength: 5, seed: 1 });
    expect(() => guardModel(model)).toThrowError(/model "simple_rnn_model" is not compiled: it has no optimizer to guard\. Call model\.compile\(\{ optimizer: 'adam'/);
    expect(() => guardModel(tf.train.adam() as never)).toThrowError(/expected a compiled tfjs LayersModel, got an object/);
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const other = buildSimpleRnn({ sequenceLength: 5, seed: 2 });
    expect(() => guardModel(model, { model: other })).toThrowError(/options\.model is another model/);
    expect(() => guardModel(model, { statsEvry: 2 } as never)).toThrowError(/statsEvry/);
    expect((model.optimizer as Partial<GuardedOptimizer>).inner).toBeUndefined(); // nothing replaced by a failed call
    model.dispose();
    other.dispose();
  });
});
