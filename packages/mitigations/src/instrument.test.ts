import * as tf from '@tensorflow/tfjs';
import { type LayerLike, type StepStatistics, createMonitor } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { type Instrumentation, instrumentTraining } from './instrument';
import { watchTraining } from './watch-training';
import type { GradientTransformation } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let active: Instrumentation | undefined;
afterEach(() => {
  active?.restore();
  active = undefined;
});

/** Instruments this process' tfjs; every run records its steps and the model it was told about at the first step. */
function instrument(transform?: () => GradientTransformation) {
  const seen: { steps: StepStatistics[]; model: () => LayerLike | undefined }[] = [];
  active = instrumentTraining(
    { Optimizer: tf.Optimizer, LayersModel: tf.LayersModel, Sequential: tf.Sequential },
    {
      watch: (optimizer, model) => {
        const steps: StepStatistics[] = [];
        seen.push({ steps, model });
        return watchTraining(optimizer, { monitor: createMonitor(), print: 'none', onStep: (s) => steps.push(s), ...(transform ? { transform: transform() } : {}) });
      },
    },
  );
  return { seen, instrumentation: active };
}

const finite = async (model: tf.LayersModel): Promise<boolean> =>
  (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);

describe('instrumentTraining: every optimizer of an unmodified script guarded at its first step', () => {
  it("model.fit with a string optimizer ('adam'): one run, the compiled model attached, its guard installed", async () => {
    const { seen, instrumentation } = instrument();
    const { xs, ys } = addingProblem({ sequenceLength: 10, samples: 64, seed: 1 });
    // The script as written: nothing of gradguard in it.
    const model = buildSimpleRnn({ sequenceLength: 10, seed: 1 });
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    await model.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0, shuffle: false });
    const { run } = instrumentation.runs[0]!;
    await run.flush();
    expect(instrumentation.runs).toHaveLength(1);
    expect(instrumentation.runs[0]!.model).toBe(model);
    expect(seen[0]!.model()).toBe(model);
    expect(model.optimizer).toBe(run.optimizer); // later steps and model.save go through the guard directly
    expect(run.optimizer.inner.getConfig()).toMatchObject({ learningRate: 0.001, epsilon: 1e-7 });
    expect(seen[0]!.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // 4 batches × 2 epochs
    expect(seen[0]!.steps[0]!.layers.map((l) => l.layer)).toEqual(['rnn', 'head']);
    const base = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 3, batchSize: 16, verbose: 0, shuffle: false });
    await run.flush();
    expect(tf.memory().numTensors).toBe(base); // 12 more steps through the installed guard, nothing leaked
    expect(instrumentation.runs).toHaveLength(1);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('a functional model trained with fitDataset', async () => {
    const { instrumentation, seen } = instrument();
    const input = tf.input({ shape: [4] });
    const hidden = tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }).apply(input) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 1, name: 'output' }).apply(hidden) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xs = tf.randomNormal([40, 4], 0, 1, 'float32', 7);
    const ys = tf.sum(xs, 1, true);
    const ds = tf.data.zip({ xs: tf.data.array(tf.unstack(xs)), ys: tf.data.array(tf.unstack(ys)) }).batch(10);
    await model.fitDataset(ds, { epochs: 2, verbose: 0 });
    await instrumentation.runs[0]!.run.flush();
    expect(seen[0]!.steps).toHaveLength(8);
    expect(seen[0]!.steps[0]!.layers.map((l) => l.layer)).toEqual(['hidden', 'output']);
    expect(seen[0]!.steps.at(-1)!.loss!).toBeLessThan(seen[0]!.steps[0]!.loss!);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('custom loops: the model is learned from the loss function, and two models with two optimizers stay apart (varList)', async () => {
    const { instrumentation, seen } = instrument();
    const g = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], name: 'g_dense' })] });
    const d = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3], name: 'd_dense' })] });
    const gOpt = tf.train.adam(0.01);
    const dOpt = tf.train.sgd(0.1);
    const x = tf.randomNormal([8, 2], 0, 1, 'float32', 3);
    const dVars = d.trainableWeights.map((w) => w.read() as tf.Variable);
    const gVars = g.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let i = 0; i < 3; i++) {
      dOpt.minimize(() => tf.mean(tf.square(d.predict(g.predict(x) as tf.Tensor) as tf.Tensor)) as tf.Scalar, false, dVars);
      gOpt.minimize(() => tf.mean(tf.square(tf.sub(d.apply(g.apply(x) as tf.Tensor) as tf.Tensor, 1))) as tf.Scalar, false, gVars);
    }
    expect(instrumentation.runs).toHaveLength(2);
    for (const r of instrumentation.runs) await r.run.flush();
    expect(instrumentation.runs.map((r) => r.run.optimizer.inner)).toEqual([dOpt, gOpt]);
    // Sequential.predict runs its inner LayersModel; apply runs the Sequential itself: the same layers either way.
    expect(seen[0]!.steps.map((s) => s.layers.map((l) => l.layer))).toEqual([['d_dense'], ['d_dense'], ['d_dense']]);
    expect(seen[1]!.steps.map((s) => s.layers.map((l) => l.layer))).toEqual([['g_dense'], ['g_dense'], ['g_dense']]);
    expect(instrumentation.runs[1]!.model).toBe(g);
    tf.dispose(x);
    g.dispose();
    d.dispose();
    gOpt.dispose();
    dOpt.dispose();
  });

  it.each([1, 2])('the exploding RNN (gain 1.5, SGD 0.1, seed %i): watched, it goes NaN as before and is diagnosed; with a clip flag it stays finite', async (seed) => {
    const train = async (transform?: () => GradientTransformation) => {
      const { instrumentation } = instrument(transform);
      const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed });
      const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 160, seed });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
      const { run } = instrumentation.runs[0]!;
      await run.flush();
      const out = { finite: await finite(model), problems: run.monitor.diagnoses.map((d) => d.problem), firstNonFinite: run.firstNonFiniteStep };
      tf.dispose([xs, ys]);
      model.dispose();
      instrumentation.restore();
      active = undefined;
      return out;
    };
    const watched = await train();
    expect(watched.finite).toBe(false);
    expect(watched.firstNonFinite).not.toBeNull();
    expect(watched.problems).toContain('exploding-gradient');
    const clipped = await train(() => clipByGlobalNorm(1));
    expect(clipped.finite).toBe(true);
    expect(clipped.firstNonFinite).toBeNull();
  });

  it('restore() puts the tfjs methods back; a second instrumentation of the same instance is an error', () => {
    const before = { minimize: tf.Optimizer.prototype.minimize, compile: tf.LayersModel.prototype.compile, predictOwn: Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'predict'), applyOwn: Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'apply') };
    const { instrumentation } = instrument();
    expect(tf.Optimizer.prototype.minimize).not.toBe(before.minimize);
    expect(() => instrumentTraining({ Optimizer: tf.Optimizer, LayersModel: tf.LayersModel }, { watch: () => { throw new Error('unused'); } })).toThrowError(/already instrumented/);
    instrumentation.restore();
    active = undefined;
    expect(tf.Optimizer.prototype.minimize).toBe(before.minimize);
    expect(tf.LayersModel.prototype.compile).toBe(before.compile);
    expect(Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'predict')).toBe(before.predictOwn);
    expect(Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'apply')).toBe(before.applyOwn);
    expect(() => instrumentTraining({ Optimizer: {} as never, LayersModel: tf.LayersModel }, { watch: () => { throw new Error('unused'); } })).toThrowError(/expected tfjs-core's Optimizer/);
  });
});
