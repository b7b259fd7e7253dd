import * as tf from '@tensorflow/tfjs';
import { createMonitor, type StepStatistics } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { chain } from './chain';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { adaptiveGradClip } from './adaptive-grad-clip';
import { addWeightDecay, decoupledWeightDecay } from './add-weight-decay';
import { autoClip } from './auto-clip';
import { clipByNorm } from './clip-by-norm';
import { clipByValue } from './clip-by-value';
import { controlLearningRate } from './learning-rate';
import { spikeClip } from './spike-clip';
import { zClip } from './z-clip';
import { guard, terminateOnProblem } from './guard';
import { skipNonFinite } from './skip-non-finite';
import type { GradientTransformation } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The skeleton's fixture: a relu SimpleRNN with an orthogonal recurrent kernel of gain 1.5, T = 50, SGD lr 0.1. */
async function trainRnn(transform: GradientTransformation | undefined, epochs = 2, seed = 1) {
  const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed });
  const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed });
  const steps: StepStatistics[] = [];
  const guarded = guard(tf.train.sgd(0.1), { model, monitor: createMonitor(), onStep: (s) => steps.push(s), ...(transform ? { transform } : {}) });
  model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs, batchSize: 32, verbose: 0, shuffle: false });
  await guarded.flush();
  const weightsFinite = await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)));
  tf.dispose([xs, ys]);
  model.dispose();
  return { losses: history.history.loss as number[], steps, diagnoses: guarded.monitor!.diagnoses, weightsFinite };
}

describe('guard inside model.fit, on a real exploding RNN', () => {
  it('unguarded: the gradients explode, the loss turns NaN, and the monitor names the layer', async () => {
    const run = await trainRnn(undefined);
    expect(run.losses.every(Number.isNaN)).toBe(true);
    expect(run.steps).toHaveLength(20); // 2 epochs × 10 batches
    expect(run.steps[0]!.preClipNorm).toBeGreaterThan(1e3); // gain 1.5 over 50 steps
    expect(run.steps.every((s) => s.scale === 1)).toBe(true); // watch-only changes nothing
    const nonFinite = run.diagnoses.find((d) => d.problem === 'non-finite');
    expect(nonFinite).toMatchObject({ severity: 'critical', layer: 'rnn', phase: 'onset' });
    expect(nonFinite!.step).toBeLessThanOrEqual(3);
    expect(run.weightsFinite).toContain(false);
  });

  it('guarded with clipByGlobalNorm(1): every loss and weight stays finite and the loss recovers', async () => {
    const run = await trainRnn(clipByGlobalNorm(1), 6);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    // Epoch 1 averages in the exploded first steps (~6e5); by epoch 6 the MSE is near the 1/6 baseline and below 0.25.
    expect(run.losses[0]!).toBeGreaterThan(1e3);
    expect(run.losses.at(-1)!).toBeLessThan(0.25);
    expect(run.weightsFinite.every(Boolean)).toBe(true);
    expect(run.diagnoses.some((d) => d.problem === 'non-finite')).toBe(false);
    // The pre-clip norm is recorded, and the scale applied is exactly 1 / max(norm, 1).
    const first = run.steps[0]!;
    expect(first.preClipNorm).toBeGreaterThan(1e3);
    expect(first.postClipNorm).toBeCloseTo(1, 4);
    for (const s of run.steps) expect(s.scale).toBeCloseTo(1 / Math.max(s.preClipNorm, 1), 5);
    // The raw gradients still explode, so the monitor still says so, naming the recurrent layer.
    expect(run.diagnoses.find((d) => d.problem === 'exploding-gradient')).toMatchObject({ layer: 'rnn' });
  });
});

describe('guard', () => {
  it('with recurrent: true measures the recurrent kernels\' spectra before each update, in the same read-back, leak-free', async () => {
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed: 1 });
    const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 32, seed: 1 });
    const seen: StepStatistics[] = [];
    const plain: StepStatistics[] = [];
    await expectNoLeak(async () => {
      const guarded = guard(tf.train.sgd(0.01), { model, recurrent: true, onStep: (s) => seen.push(s) });
      model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
      for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
      await guarded.flush();
      const off = guard(tf.train.sgd(1e-6), { model, onStep: (s) => plain.push(s) });
      model.compile({ optimizer: off, loss: 'meanSquaredError' });
      await model.trainOnBatch(xs, ys);
      await off.flush();
      guarded.dispose();
      off.dispose();
    });
    expect(seen).toHaveLength(3);
    for (const s of seen) {
      expect(s.recurrent).toHaveLength(1);
      expect(s.recurrent![0]).toMatchObject({ className: 'SimpleRNN', gate: 'all', timeSteps: 50 });
    }
    // Step 0's gradients were computed with the initial kernel (orthogonal × 1.5), whatever its update then did to it
    // (a ~1e5 gradient at lr 0.01 moves it far).
    expect(seen[0]!.recurrent![0]!.spectralRadius).toBeCloseTo(1.5, 2);
    expect(seen[0]!.recurrent![0]!.maxSingularValue).toBeCloseTo(1.5, 2);
    expect(Math.abs(seen[1]!.recurrent![0]!.spectralRadius - 1.5)).not.toBeLessThan(0.01);
    expect(plain[0]!.recurrent).toBeUndefined();
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('with recurrent: { every } measures the spectra on every k-th measured step only (statsEvery counts first)', async () => {
    const model = buildSimpleRnn({ sequenceLength: 10, units: 8, recurrentGain: 1.2, seed: 2 });
    const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 16, seed: 2 });
    const seen: StepStatistics[] = [];
    await expectNoLeak(async () => {
      const guarded = guard(tf.train.sgd(1e-3), { model, statsEvery: 2, recurrent: { every: 2, squarings: 10 }, onStep: (s) => seen.push(s) });
      model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
      for (let i = 0; i < 9; i++) await model.trainOnBatch(xs, ys);
      await guarded.flush();
      guarded.dispose();
    });
    // Measured steps 0, 2, 4, 6, 8; spectra on every second of those: 0, 4, 8.
    expect(seen.map((s) => s.step)).toEqual([0, 2, 4, 6, 8]);
    expect(seen.filter((s) => s.recurrent).map((s) => s.step)).toEqual([0, 4, 8]);
    expect(seen[0]!.recurrent![0]!.spectralRadius).toBeCloseTo(1.2, 2);
    expect(() => guard(tf.train.sgd(0.1), { model, recurrent: { every: 0 } })).toThrow('recurrent.every must be');
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('with no transform applies exactly what the inner optimizer would', async () => {
    const make = () => {
      const model = buildSimpleRnn({ sequenceLength: 5, units: 4, seed: 3 });
      return model;
    };
    const data = addingProblem({ sequenceLength: 5, samples: 64, seed: 3 });
    const plain = make();
    plain.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    await plain.fit(data.xs, data.ys, { epochs: 2, batchSize: 16, verbose: 0, shuffle: false });
    const watched = make();
    const g = guard(tf.train.adam(0.01), { model: watched });
    watched.compile({ optimizer: g, loss: 'meanSquaredError' });
    await watched.fit(data.xs, data.ys, { epochs: 2, batchSize: 16, verbose: 0, shuffle: false });
    await g.flush();
    const a = await Promise.all(plain.getWeights().map((w) => w.data()));
    const b = await Promise.all(watched.getWeights().map((w) => w.data()));
    expect(b).toEqual(a);
    expect(g.step).toBe(8);
    expect(g.latest!.layers.map((l) => l.layer)).toEqual(['rnn', 'head']);
    expect(g.latest!.learningRate).toBe(0.01);
    tf.dispose([data.xs, data.ys]);
    plain.dispose();
    watched.dispose();
  });

  it('works in a custom loop through minimize and applyGradients, reporting the loss of minimize', async () => {
    const w = tf.variable(tf.tensor([3, 4]), true, 'custom_w');
    const g = guard(tf.train.sgd(0.5), { transform: clipByGlobalNorm(1) });
    const seen: StepStatistics[] = [];
    g.onStep((s) => seen.push(s));
    // loss = sum(w²)/2, gradient = w = [3, 4] (norm 5), clipped to [0.6, 0.8], step 0.5 → w = [2.7, 3.6]
    const cost = g.minimize(() => tf.sum(tf.square(w)).div(2) as tf.Scalar, true);
    expect(Array.from(await w.data()).map((x) => +x.toFixed(5))).toEqual([2.7, 3.6]);
    g.applyGradients([{ name: 'custom_w', tensor: tf.tensor([0, 0.2]) }]);
    expect(Array.from(await w.data()).map((x) => +x.toFixed(5))).toEqual([2.7, 3.5]);
    await g.flush();
    expect(seen.map((s) => s.step)).toEqual([0, 1]);
    expect(seen[0]!.loss).toBeCloseTo(12.5, 5);
    expect(seen[0]!.preClipNorm).toBeCloseTo(5, 5);
    expect(seen[0]!.scale).toBeCloseTo(0.2, 5);
    expect(seen[1]!.loss).toBeUndefined();
    expect(seen[1]!.scale).toBeCloseTo(1, 6);
    cost!.dispose();
    w.dispose();
    g.dispose();
  });

  it('measures only every k-th step when asked', async () => {
    const w = tf.variable(tf.ones([2]), true, 'every_k_w');
    const g = guard(tf.train.sgd(0.1), { statsEvery: 3 });
    const seen: number[] = [];
    g.onStep((s) => seen.push(s.step));
    for (let i = 0; i < 7; i++) g.minimize(() => tf.sum(w) as tf.Scalar);
    await g.flush();
    expect(seen).toEqual([0, 3, 6]);
    w.dispose();
  });

  it('rejects what is not an optimizer with a hint', () => {
    expect(() => guard('nadam')).toThrow(
      'guard: expected a tf.Optimizer or an optimizer name, got "nadam". Use a name model.compile knows (adagrad, adadelta, adam, adamax, rmsprop, sgd) or make the optimizer, e.g. guard(tf.train.adam(0.001)).',
    );
    expect(() => guard(guard(tf.train.sgd(1)))).toThrow(/already guarded/);
    expect(() => guard(tf.train.sgd(1), { statsEvery: 0 })).toThrow('statsEvery must be an integer >= 1, got 0');
  });

  it("takes an optimizer name as model.compile does, with the same settings: 'adam' trains bit-identically", async () => {
    const data = addingProblem({ sequenceLength: 10, samples: 96, seed: 4 });
    const train = async (optimizer: 'adam' | ReturnType<typeof guard>) => {
      const model = buildSimpleRnn({ sequenceLength: 10, recurrentGain: 1, seed: 4 });
      model.compile({ optimizer, loss: 'meanSquaredError' });
      await model.fit(data.xs, data.ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
      const w = await Promise.all(model.getWeights().map(async (t) => Array.from(await t.data())));
      model.dispose();
      return w;
    };
    const guarded = guard('adam', { monitor: createMonitor() });
    expect(guarded.inner.getClassName()).toBe('Adam');
    expect(guarded.inner.getConfig()).toMatchObject({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(guard('SGD').inner.getConfig()).toMatchObject({ learningRate: 0.01 });
    expect(await train(guarded)).toEqual(await train('adam'));
    expect(guarded.step).toBe(6);
    tf.dispose([data.xs, data.ys]);
  });

  it('a checkpoint saved with includeOptimizer while guarded reloads with tf.loadLayersModel, optimizer state included', async () => {
    const data = addingProblem({ sequenceLength: 10, samples: 64, seed: 5 });
    const model = buildSimpleRnn({ sequenceLength: 10, recurrentGain: 1, seed: 5 });
    const guarded = guard(tf.train.adam(0.003), { transform: clipByGlobalNorm(1), monitor: createMonitor(), model });
    model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
    await model.fit(data.xs, data.ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })), { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    // Recorded as what it trains with: the inner Adam, its rate and its moments (4 steps: iterations and 2 per weight).
    expect(loaded.optimizer.getClassName()).toBe('Adam');
    expect(loaded.optimizer.getConfig()).toMatchObject({ learningRate: 0.003 });
    const before = await guarded.getWeights();
    const after = await loaded.optimizer.getWeights();
    expect(after.map((w) => w.name)).toEqual(before.map((w) => w.name));
    for (let i = 0; i < before.length; i++) expect(Array.from(await after[i]!.tensor.data())).toEqual(Array.from(await before[i]!.tensor.data()));
    // Reloaded guarded (checkpoint.test.ts); its inner Adam wrapped again goes on training where it stopped.
    const again = guard((loaded.optimizer as ReturnType<typeof guard>).inner, { model: loaded, monitor: createMonitor() });
    loaded.compile({ optimizer: again, loss: 'meanSquaredError' });
    await loaded.fit(data.xs, data.ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
    expect(again.inner.iterations).toBe(guarded.inner.iterations + 2);
    tf.dispose([data.xs, data.ys, ...before.map((w) => w.tensor), ...after.map((w) => w.tensor)]);
    model.dispose();
    loaded.dispose();
  });

  it("takes Keras' clipnorm, clipvalue and global_clipnorm shorthands, with Keras' numbers", async () => {
    // One SGD(1) step on w = [0, 0, 0] with gradients a = [3, 4] (norm 5) and b = [12] (global norm 13).
    const step = async (options: Parameters<typeof guard>[1]) => {
      const a = tf.variable(tf.zeros([2]), true, `keras_a_${Object.keys(options!).join('_')}`);
      const b = tf.variable(tf.zeros([1]), true, `keras_b_${Object.keys(options!).join('_')}`);
      const g = guard(tf.train.sgd(1), options);
      const ga = tf.tensor([3, 4]);
      const gb = tf.tensor([12]);
      g.applyGradients({ [a.name]: ga, [b.name]: gb });
      await g.flush();
      const out = [...(await a.data()), ...(await b.data())].map((x) => -x);
      tf.dispose([a, b, ga, gb]);
      g.dispose();
      return out;
    };
    const close = (xs: number[], ys: number[]) => xs.forEach((x, i) => expect(x).toBeCloseTo(ys[i]!, 5));
    close(await step({ clipnorm: 1 }), [0.6, 0.8, 1]); // each tensor to norm 1
    close(await step({ clipvalue: 3.5 }), [3, 3.5, 3.5]); // each entry to [-3.5, 3.5]
    close(await step({ globalClipnorm: 1 }), [3 / 13, 4 / 13, 12 / 13]); // all together to norm 1
    // After `transform`: skipNonFinite first, then the clip.
    expect(guard(tf.train.sgd(1), { transform: skipNonFinite(), globalClipnorm: 1 }).transform!.name).toBe('chain');
  });

  it('prints each critical diagnosis once, at onset, when nothing else shows them; print: none stays silent', async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'warn').mockImplementation((line: string) => void printed.push(line));
    try {
      await trainRnn(undefined, 1); // the exploding RNN: NaN at step 1
      expect(printed.length).toBeGreaterThanOrEqual(2);
      expect(printed[0]).toMatch(/^gradguard: step 0 critical exploding-gradient in layer "rnn": The global gradient norm is .*\n {2}try clipByGlobalNorm: /);
      expect(printed.some((l) => /^gradguard: step 1 critical non-finite in layer "rnn"/.test(l))).toBe(true);
      expect(new Set(printed).size).toBe(printed.length); // each once
      printed.length = 0;
      const silent = guard(tf.train.sgd(0.1), { monitor: createMonitor(), print: 'none' });
      const w = tf.variable(tf.tensor([1, 2]), true, 'print_none_w');
      silent.minimize(() => tf.mul(tf.sum(w), Number.NaN) as tf.Scalar);
      await silent.flush();
      expect(silent.monitor!.diagnoses.some((d) => d.severity === 'critical')).toBe(true);
      expect(printed).toEqual([]);
      silent.dispose();
      w.dispose();
    } finally {
      spy.mockRestore();
    }
  });

  it('leaks no tensor over 240 guarded model.fit steps (Adam, chained clipping, monitor)', async () => {
    const model = buildSimpleRnn({ sequenceLength: 8, units: 8, seed: 5, recurrentGain: 1.5 });
    const { xs, ys } = addingProblem({ sequenceLength: 8, samples: 64, seed: 5 });
    const g = guard(tf.train.adam(0.01), { model, monitor: createMonitor(), transform: chain(clipByGlobalNorm(2), clipByGlobalNorm(1)) });
    model.compile({ optimizer: g, loss: 'meanSquaredError' });
    await model.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0 }); // creates Adam's slots
    await g.flush();
    await expectNoLeak(async () => {
      await model.fit(xs, ys, { epochs: 30, batchSize: 8, verbose: 0 });
      await g.flush();
    });
    expect(g.step).toBe(248);
    tf.dispose([xs, ys]);
    g.dispose();
    model.dispose();
  });

  it('on a device backend, exposes the probes (autoClip bound, skip counters) once read back, never blocking the step', async () => {
    const w = tf.variable(tf.tensor([3, 4]), true, 'probe_w');
    const g = guard(tf.train.sgd(0.1), { transform: chain(skipNonFinite(), autoClip({ percentile: 50 })), kernel: 'device' });
    for (const v of [[3, 4], [Number.NaN, 0], [6, 8]]) {
      const grad = tf.tensor(v);
      g.applyGradients({ probe_w: grad });
      grad.dispose();
    }
    expect(g.probes).toEqual({}); // nothing has been read back yet: the step never waited
    await g.flush();
    // Decided on the device, the skipped step reached autoClip as zeros (norm 0): median of [5, 0, 10] = 5.
    expect(g.probes).toEqual({ '0:consecutive': 0, '0:total': 1, '1:bound': 5 });
    expect(g.latest!.scale).toBeCloseTo(0.5, 6);
    expect(g.skipped).toBe(1);
    w.dispose();
    g.dispose();
  });

  it('on a host backend, decides the skip on the host: the chain stops there, and the probes are known at once', async () => {
    const w = tf.variable(tf.tensor([3, 4]), true, 'probe_w_host');
    const g = guard(tf.train.sgd(0.1), { transform: chain(skipNonFinite(), autoClip({ percentile: 50 })) });
    const bounds: number[] = [];
    for (const v of [[3, 4], [Number.NaN, 0], [6, 8]]) {
      const grad = tf.tensor(v);
      g.applyGradients({ probe_w_host: grad });
      grad.dispose();
      bounds.push(g.probes['1:bound']!);
    }
    // autoClip never saw the skipped step: its history is [5], then [5, 10] (no zero from a step that did not happen).
    expect(g.probes['0:total']).toBe(1);
    expect(bounds[0]).toBe(bounds[1]);
    expect(bounds[2]).toBeGreaterThan(5);
    expect(g.skipped).toBe(1);
    // SGD 0.1: step 0 applies [3, 4], step 1 nothing, step 2 [6, 8] scaled to the bound.
    const [w0, w1] = Array.from(await w.data());
    expect(w0).toBeCloseTo(3 - 0.3 - 0.6 * (bounds[2]! / 10), 5);
    expect(w1).toBeCloseTo(4 - 0.4 - 0.8 * (bounds[2]! / 10), 5);
    await g.flush();
    w.dispose();
    g.dispose();
  });

  it('the fit callback needs a model, and terminateOnProblem needs a guarded optimizer', () => {
    expect(() => guard(tf.train.sgd(0.1)).callback()).toThrow(/no model to stop.*guard\(optimizer, \{ model \}\)/);
    expect(() => terminateOnProblem(tf.train.sgd(0.1) as never)).toThrow(/expected the optimizer returned by guard/);
  });

  it('leaks no tensor over 500 steps with every transformation chained, warm-up and rollback', async () => {
    const w = tf.variable(tf.randomNormal([6, 4], 0, 1, 'float32', 7), true, 'everything_w');
    const b = tf.variable(tf.zeros([4]), true, 'everything_b');
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 8);
    const transform = chain(
      skipNonFinite({ maxConsecutive: 3 }),
      addWeightDecay({ l1: 1e-4, l2: 1e-3 }),
      adaptiveGradClip(0.1),
      autoClip({ history: 32 }),
      zClip({ warmup: 5 }),
      spikeClip(),
      clipByNorm(1),
      clipByValue(0.5),
      clipByGlobalNorm(1),
      decoupledWeightDecay(1e-2),
    );
    const g = guard(tf.train.momentum(0.01, 0.9), { transform, learningRate: controlLearningRate({ warmup: { steps: 600 } }), rollback: { every: 25 } });
    const poison = tf.scalar(Number.NaN);
    const loss = (i: number) => () => {
      const l = tf.mean(tf.square(tf.add(tf.matMul(x, w), b)));
      return (i % 40 === 39 ? tf.mul(l, poison) : l) as tf.Scalar;
    };
    // 60 steps first, so that two good snapshots are held (steps 25 and 50) before counting, as after (525, 550).
    for (let i = 0; i < 60; i++) g.minimize(loss(i));
    await g.flush();
    await expectNoLeak(async () => {
      for (let i = 0; i < 500; i++) {
        g.minimize(loss(i));
        if (i % 25 === 0) await g.flush();
      }
      await g.flush();
    });
    expect(g.skipped).toBe(13); // the poisoned i = 39 of the first 60 steps, then i = 39, 79, …, 479
    expect(g.rollbacks).toEqual([]); // isolated skipped steps are bad batches, not a reason to roll back
    expect(g.latest!.learningRate).toBeCloseTo((0.01 * 560) / 600, 9);
    expect((await w.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([w, b, x, poison]);
    g.dispose();
  });
});
