import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createMonitor } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { guard } from './guard';
import { guardModel } from './guard-model';
import type { GuardedOptimizer } from './guard-types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

async function save(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })), { includeOptimizer: true });
  return saved!;
}

const values = async (ts: readonly { name: string; tensor: tf.Tensor }[]) =>
  Promise.all(ts.map(async (w) => ({ name: w.name, data: Array.from(await w.tensor.data()) })));

const isGuarded = (o: tf.Optimizer): o is GuardedOptimizer => (o as Partial<GuardedOptimizer>).inner !== undefined;

/** A SimpleRNN trained 2 epochs through a guard of Adam(0.003), then saved with its optimizer. */
async function trainedCheckpoint(options: Parameters<typeof guard>[1]) {
  const data = addingProblem({ sequenceLength: 10, samples: 64, seed: 5 });
  const model = buildSimpleRnn({ sequenceLength: 10, recurrentGain: 1, seed: 5 });
  const guarded = guard(tf.train.adam(0.003), { ...options, model });
  model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
  await model.fit(data.xs, data.ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
  await guarded.flush();
  return { data, model, guarded, artifacts: await save(model) };
}

describe('checkpoints saved while guarded', () => {
  it('record the inner class (Adam) and its config, with the guard settings under `gradguard`', async () => {
    const { data, model, artifacts } = await trainedCheckpoint({ monitor: createMonitor(), print: 'none', globalClipnorm: 1, statsEvery: 2 });
    const opt = (artifacts.trainingConfig as unknown as { optimizer_config: { class_name: string; config: Record<string, unknown> } }).optimizer_config;
    expect(opt.class_name).toBe('Adam');
    expect(opt.config).toMatchObject({ learningRate: 0.003, beta1: 0.9, beta2: 0.999 });
    expect(opt.config.gradguard).toEqual({ version: 1, monitor: true, print: 'none', statsEvery: 2, globalClipnorm: 1 });
    // Adam's iteration count and two moments for each of the 5 variables (RNN kernel, recurrent kernel, bias; head's 2).
    expect(artifacts.weightSpecs!.filter((s) => s.group === 'optimizer').map((s) => s.name)).toHaveLength(1 + 2 * 5);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('reload guarded where gradguard is loaded: same settings, same weights and Adam moments, and training goes on exactly as the original', async () => {
    const { data, model, guarded, artifacts } = await trainedCheckpoint({ monitor: createMonitor(), print: 'none', globalClipnorm: 0.05 });
    const warn = vi.spyOn(console, 'warn');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(warn).not.toHaveBeenCalled(); // everything it held was data: nothing to warn about
    const restored = loaded.optimizer;
    expect(isGuarded(restored)).toBe(true);
    if (!isGuarded(restored)) return;
    expect(restored.inner.getClassName()).toBe('Adam');
    expect(restored.inner.getConfig()).toMatchObject({ learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(restored.monitor).toBeDefined(); // a fresh monitor with the default detectors: no history
    expect(restored.monitor!.diagnoses).toEqual([]);
    expect(restored.transform?.name).toBe('clipByGlobalNorm'); // the Keras-style shorthand is data: restored
    const [before, after] = [await guarded.getWeights(), await restored.getWeights()];
    expect(await values(after)).toEqual(await values(before));
    for (let i = 0; i < model.getWeights().length; i++) {
      expect(Array.from(await loaded.getWeights()[i]!.data())).toEqual(Array.from(await model.getWeights()[i]!.data()));
    }
    // guardModel attaches the reloaded model's layers to the restored guard (it cannot know them from the config).
    expect(guardModel(loaded)).toBe(restored);
    const steps: number[] = [];
    restored.onStep((s) => steps.push(s.scale));
    // One more epoch on both: the same clipped Adam steps from the same weights and moments give the same weights.
    await model.fit(data.xs, data.ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
    await loaded.fit(data.xs, data.ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
    await restored.flush();
    expect(steps).toHaveLength(2);
    expect(steps.every((s) => s < 1)).toBe(true); // clipped to 0.05, as the original
    expect(restored.latest!.layers.map((l) => l.layer)).toEqual(['rnn', 'head']);
    expect(restored.inner.iterations).toBe(guarded.inner.iterations);
    for (let i = 0; i < model.getWeights().length; i++) {
      expect(Array.from(await loaded.getWeights()[i]!.data())).toEqual(Array.from(await model.getWeights()[i]!.data()));
    }
    tf.dispose([data.xs, data.ys, ...before.map((w) => w.tensor), ...after.map((w) => w.tensor)]);
    model.dispose();
    loaded.dispose();
  });

  it('name what a checkpoint cannot hold (a transform is code) and take it back through guardModel(model, options), moments kept', async () => {
    const { data, model, guarded, artifacts } = await trainedCheckpoint({ transform: clipByGlobalNorm(1), monitor: createMonitor(), print: 'none' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/this Adam checkpoint reloads guarded, without its transform clipByGlobalNorm .*guardModel\(model, \{ transform, \.\.\. \}\)/);
    const restored = loaded.optimizer as GuardedOptimizer;
    expect(restored.transform).toBeUndefined();
    const again = guardModel(loaded, { transform: clipByGlobalNorm(1) });
    expect(again).not.toBe(restored);
    expect(again.inner).toBe(restored.inner); // the reloaded Adam and its moments, guarded anew
    expect(loaded.optimizer).toBe(again);
    expect(again.inner.iterations).toBe(guarded.inner.iterations);
    const base = tf.memory().numTensors;
    await loaded.fit(data.xs, data.ys, { epochs: 3, batchSize: 32, verbose: 0, shuffle: false });
    expect(tf.memory().numTensors).toBe(base); // 6 more steps leak nothing
    expect(again.step).toBe(6);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
    loaded.dispose();
  });

  it('reload as the plain inner Adam, moments included, in a process that never loads gradguard', async () => {
    const { data, model, guarded, artifacts } = await trainedCheckpoint({ transform: clipByGlobalNorm(1), monitor: createMonitor(), print: 'none' });
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-ckpt-'));
    try {
      const file = join(dir, 'checkpoint.json');
      const weightData = tf.io.concatenateArrayBuffers(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData!]);
      writeFileSync(file, JSON.stringify({ ...artifacts, weightData: Buffer.from(weightData).toString('base64') }));
      // Only @tensorflow/tfjs is loaded there (resolved from this package); the child fails if a gradguard module is.
      const child = `
        const tf = require('@tensorflow/tfjs');
        const a = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
        const b = Buffer.from(a.weightData, 'base64');
        a.weightData = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        (async () => {
          await tf.setBackend('cpu');
          const m = await tf.loadLayersModel(tf.io.fromMemory(a));
          const o = m.optimizer;
          const slots = await Promise.all((await o.getWeights()).map(async (w) => ({ name: w.name, data: Array.from(await w.tensor.data()) })));
          const loaded = Object.keys(require.cache).filter((k) => k.includes('gradguard'));
          process.stdout.write(JSON.stringify({ className: o.getClassName(), ctor: o.constructor.name, config: o.getConfig(), slots, loaded, iterations: o.iterations }));
        })();`;
      const r = spawnSync(process.execPath, ['-e', child, file], { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.loaded).toEqual([]);
      expect(out.className).toBe('Adam');
      expect(out.ctor).toBe('AdamOptimizer');
      expect(out.config).toEqual({ learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }); // no gradguard key kept
      expect(out.iterations).toBe(guarded.inner.iterations);
      const before = await guarded.getWeights();
      expect(out.slots).toEqual(await values(before));
      tf.dispose(before.map((w) => w.tensor));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tf.dispose([data.xs, data.ys]);
      model.dispose();
    }
  });

  it('leave plain checkpoints plain: an unguarded Adam reloads as Adam with gradguard loaded', async () => {
    const data = addingProblem({ sequenceLength: 10, samples: 32, seed: 6 });
    const model = buildSimpleRnn({ sequenceLength: 10, seed: 6 });
    model.compile({ optimizer: tf.train.adam(0.002), loss: 'meanSquaredError' });
    await model.fit(data.xs, data.ys, { epochs: 1, batchSize: 32, verbose: 0 });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await save(model)));
    expect(isGuarded(loaded.optimizer)).toBe(false);
    expect(loaded.optimizer.getConfig()).toEqual({ learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    tf.dispose([data.xs, data.ys]);
    model.dispose();
    loaded.dispose();
  });
});
