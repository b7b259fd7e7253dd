import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { type StepStatistics, createMonitor } from '@gradguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from './guard';
import type { NonFiniteReplay } from './replay-non-finite';
import { skipNonFinite } from './skip-non-finite';
import { buildDeepReluMlp, mlpData } from './test/fixtures';

/**
 * A backend that computes like cpu except that its Relu writes NaN into the first entry of every output — the shape
 * of the backend bugs in tfjs issues #1321, #4326 and #5573 (a kernel that returns NaN where the math does not).
 * Its tensors are not host-resident for gradguard (an unknown name), so guard takes its device path there.
 */
function registerFlakyBackend(): void {
  if (tf.findBackendFactory('flaky') != null) return;
  const cpu = tf.findBackend('cpu') as tf.KernelBackend;
  const Cpu = cpu.constructor as new () => tf.KernelBackend;
  tf.registerBackend('flaky', () => new Cpu(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    const kernelFunc: tf.KernelFunc = k.kernelName !== 'Relu'
      ? k.kernelFunc
      : (args) => {
        const out = k.kernelFunc(args) as tf.TensorInfo;
        const store = (args.backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data;
        store.get(out.dataId).values[0] = Number.NaN;
        return out;
      };
    tf.registerKernel({ ...k, backendName: 'flaky', kernelFunc });
  }
}

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true); // cpu is initialized, so a replay switches to it synchronously
  expect(await tf.setBackend('wasm')).toBe(true);
  registerFlakyBackend();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** A small ReLU MLP trained with model.fit on `backend`; `nanBatches` get one NaN label (bad data). */
async function fitOn(backend: string, nanBatches: number[], replay: boolean, seed = 1) {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = buildDeepReluMlp(seed, 2, 8);
  const tamed = model.getWeights().map((w) => (w.rank === 2 ? tf.mul(w, 0.35) : w.clone()));
  model.setWeights(tamed);
  tf.dispose(tamed);
  const { xs, ys } = mlpData(32 * 6, 8);
  const y = Array.from(await ys.data());
  for (const b of nanBatches) y[b * 32 + 3] = Number.NaN;
  const labels = tf.tensor2d(y, [32 * 6, 1]);
  const seen: NonFiniteReplay[] = [];
  const stats: StepStatistics[] = [];
  const monitor = createMonitor();
  const guarded = guard(tf.train.adam(0.01), {
    model,
    monitor,
    print: 'none',
    onStep: (s) => stats.push(s),
    transform: skipNonFinite(),
    ...(replay ? { replayNonFiniteOn: 'cpu', onReplay: (r: NonFiniteReplay) => seen.push(r) } : {}),
  });
  model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
  await model.fit(xs, labels, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
  await guarded.flush();
  const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
  const result = { replays: [...guarded.replays], seen, weights, backendAfter: tf.getBackend(), skipped: guarded.skipped, stats, diagnoses: monitor.diagnoses };
  guarded.dispose();
  model.dispose();
  tf.dispose([xs, ys, labels]);
  return result;
}

describe('replayNonFiniteOn: which backend produced the NaN', () => {
  it('bad data on wasm: the replay on cpu is NaN too, so the verdict is "model"; training is not changed by the replay', async () => {
    const run = await fitOn('wasm', [2, 4], true);
    expect(run.backendAfter).toBe('wasm'); // switched back after each replay
    expect(run.replays.map((r) => [r.step, r.backend, r.replayedOn, r.verdict])).toEqual([[2, 'wasm', 'cpu', 'model'], [4, 'wasm', 'cpu', 'model']]);
    expect(run.seen).toEqual(run.replays);
    for (const r of run.replays) {
      expect(r.loss).toBeNaN();
      expect(r.replayLoss).toBeNaN();
      expect(r.nonFinite).toBeGreaterThan(0);
      expect(r.replayNonFinite).toBe(r.nonFinite); // every gradient entry the NaN label reaches, on both backends
    }
    expect(run.skipped).toBe(2);
    const plain = await fitOn('wasm', [2, 4], false);
    expect(plain.replays).toEqual([]);
    expect(run.weights).toEqual(plain.weights); // the replay moved data to cpu and back: the weights are bit-identical
  });

  it('replays without any transformation too (a guard that only watches)', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'replay_watch_only_w');
    const guarded = guard(tf.train.sgd(0.1), { replayNonFiniteOn: 'cpu' });
    for (const x of [1, Number.NaN]) {
      tf.tidy(() => {
        guarded.minimize(() => tf.sum(tf.mul(w, x)) as tf.Scalar);
      });
    }
    await guarded.flush();
    expect(guarded.replays.map((r) => [r.step, r.verdict, r.nonFinite, r.replayNonFinite])).toEqual([[1, 'model', 2, 2]]);
    guarded.dispose();
    w.dispose();
  });

  it('a healthy run replays nothing', async () => {
    const run = await fitOn('wasm', [], true);
    expect(run.replays).toEqual([]);
    expect(run.skipped).toBe(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`a backend whose Relu returns NaN: every step is non-finite there and finite on cpu, so the verdict is "backend" (seed ${seed})`, async () => {
      const run = await fitOn('flaky', [], true, seed);
      expect(run.backendAfter).toBe('flaky');
      expect(run.replays).toHaveLength(6); // 6 batches, each one non-finite on the flaky backend
      for (const r of run.replays) {
        expect(r).toMatchObject({ backend: 'flaky', replayedOn: 'cpu', verdict: 'backend', replayNonFinite: 0 });
        expect(r.loss).toBeNaN();
        expect(r.replayLoss).toBeGreaterThan(0);
        expect(Number.isFinite(r.replayLoss)).toBe(true);
      }
      expect(run.skipped).toBe(6); // skipNonFinite kept the NaN out of the weights
      expect(run.weights.flat().every(Number.isFinite)).toBe(true);
    });
  }

  it('the verdict reaches the step record, the run log and the non-finite diagnosis', async () => {
    const flaky = await fitOn('flaky', [], true);
    expect(flaky.stats[0]!.replay).toEqual({ verdict: 'backend', backend: 'flaky', replayedOn: 'cpu' });
    const d = flaky.diagnoses.find((x) => x.problem === 'non-finite')!;
    expect(d.evidence).toMatchObject({ nonFiniteSource: 'backend', backend: 'flaky', replayedOn: 'cpu' });
    expect(d.message).toMatch(/Replayed on cpu, the same batch with the same weights is finite: the flaky backend's kernels produced the NaN\/Infinity/);
    const bad = await fitOn('wasm', [1], true);
    expect(bad.stats[1]!.replay).toEqual({ verdict: 'model', backend: 'wasm', replayedOn: 'cpu' });
    expect(bad.stats.filter((s) => s.replay !== undefined).map((s) => s.step)).toEqual([1]);
    expect(bad.diagnoses.find((x) => x.problem === 'non-finite')!.message).toMatch(/Replayed on cpu it is non-finite too: the model, its weights or the data produce it, not the wasm backend\./);
  });

  it('the same model and bad data on the flaky backend still blames the model where cpu agrees', async () => {
    // Bad data is non-finite on both backends: "model", even though this backend has its own bug.
    const run = await fitOn('flaky', [1], true);
    expect(run.replays.find((r) => r.step === 1)!.verdict).toBe('model');
    expect(run.replays.filter((r) => r.step !== 1).every((r) => r.verdict === 'backend')).toBe(true);
  });

  it('leaves tf.memory().numTensors unchanged across 60 replayed steps', async () => {
    expect(await tf.setBackend('flaky')).toBe(true);
    const model = buildDeepReluMlp(1, 2, 8);
    const { xs, ys } = mlpData(32, 8);
    const guarded = guard(tf.train.adam(0.01), { model, transform: skipNonFinite({ maxConsecutive: 1000 }), replayNonFiniteOn: 'cpu' });
    const step = (): void => {
      tf.tidy(() => {
        guarded.minimize(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
      });
    };
    for (let i = 0; i < 3; i++) step();
    await guarded.flush();
    await expectNoLeak(async () => {
      for (let i = 0; i < 60; i++) step();
      await guarded.flush();
    });
    expect(guarded.replays).toHaveLength(63);
    guarded.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it('rejects a backend that is not registered, and a callback that is not a function', () => {
    expect(() => guard(tf.train.sgd(0.1), { replayNonFiniteOn: 'tensorflow' })).toThrow(
      /guard: replayNonFiniteOn must name a registered backend, got "tensorflow"/,
    );
    expect(() => guard(tf.train.sgd(0.1), { replayNonFiniteOn: 'cpu', onReplay: 1 as never })).toThrow(/onReplay must be a function, got 1/);
  });
});
