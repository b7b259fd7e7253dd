// An app that imported tfjs-node itself (`import * as tf from '@tensorflow/tfjs-node'`), in its own process so the
// CommonJS module cache holds only that build.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKING_TFJS_NODE, fakeModules } from './fake-packages.fixture';
import type { ModuleLoader } from './module-loader';
import { useNodeBackend } from './use-node-backend';

const mods = fakeModules();
mods.link('@tensorflow/tfjs');
mods.link('@tensorflow/tfjs-backend-cpu');
mods.add('@tensorflow/tfjs-node', { 'index.js': WORKING_TFJS_NODE });
afterAll(() => mods.remove());

describe('useNodeBackend when the app already loaded tfjs-node', () => {
  it('activates it without loading tfjs-node-gpu beside it, even with a GPU visible', async () => {
    createRequire(path.join(mods.root, 'app.js'))('@tensorflow/tfjs-node'); // what the app's import did
    await tf.setBackend('cpu');
    const loads: string[] = [];
    const loader: ModuleLoader = { load: (name) => (loads.push(name), mods.loader().load(name)) };
    const report = await useNodeBackend({
      loader,
      probeGpu: () =>
        Promise.resolve({ visible: true, devices: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, driverVersion: '550.54.15' }] }),
    });
    expect(loads).toEqual([]);
    expect(report).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node', preloaded: true, skipped: [] });
    expect(tf.getBackend()).toBe('tensorflow');
  });
});
