// The end of the chain, in its own process: nothing here ever loads the real wasm backend, so 'wasm' is unregistered
// and the loader decides whether it exists.
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@gradguard/core';
import { BackendUnavailableError } from './errors';
import { type FakeModules, fakeModules } from './fake-packages.fixture';
import type { GpuProbe } from './gpu-probe';
import { useNodeBackend } from './use-node-backend';

const noGpu = (): Promise<GpuProbe> => Promise.resolve({ visible: false, reason: 'CUDA_VISIBLE_DEVICES="-1" hides every GPU' });

let mods: FakeModules | undefined;
afterEach(async () => {
  mods?.remove();
  mods = undefined;
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  await tf.setBackend('cpu');
});


describe('useNodeBackend: wasm missing or broken', () => {
  it('falls back to cpu when @tensorflow/tfjs-backend-wasm is not installed', async () => {
    expect(tf.findBackendFactory('wasm')).toBeNull();
    mods = fakeModules();
    const report = await useNodeBackend({ loader: mods.loader({ wasm: true }), probeGpu: noGpu });
    expect(report.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(report.skipped.map((s) => `${s.packageName}: ${s.reason}`)).toEqual([
      '@tensorflow/tfjs-node-gpu: no-gpu',
      '@tensorflow/tfjs-node: not-installed',
      '@tensorflow/tfjs-backend-wasm: not-installed',
    ]);
  });

  it("'wasm' without the package rejects naming @tensorflow/tfjs-backend-wasm and the install command", async () => {
    mods = fakeModules();
    const err = (await useNodeBackend({ backend: 'wasm', loader: mods.loader({ wasm: true }) }).catch(
      (e: unknown) => e,
    )) as BackendUnavailableError;
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.packageName).toBe('@tensorflow/tfjs-backend-wasm');
    expect(err.message).toBe(
      "The 'wasm' backend is unavailable: @tensorflow/tfjs-backend-wasm is not installed. Install it: npm install " +
        '@tensorflow/tfjs-backend-wasm@4.22.0 (the same version as @tensorflow/tfjs-core). Or call useNodeBackend() ' +
        'without `backend` to fall back to cpu.',
    );
  });

  it('falls back to cpu when the wasm backend loads but fails to initialise, quoting what tfjs logged', async () => {
    mods = fakeModules();
    mods.link('@tensorflow/tfjs-core');
    mods.add('@tensorflow/tfjs-backend-wasm', {
      'index.js': `
        const tf = require('@tensorflow/tfjs-core');
        tf.registerBackend('wasm', async () => { throw new Error('failed to fetch tfjs-backend-wasm-simd.wasm'); }, 2);`,
    });
    const report = await useNodeBackend({ loader: mods.loader({ wasm: true }), probeGpu: noGpu });
    expect(report.backend).toBe('cpu');
    const wasm = report.skipped[2]!;
    expect(wasm.reason).toBe('init-failed');
    expect(wasm.detail).toContain("@tensorflow/tfjs-backend-wasm loaded but the 'wasm' backend failed to start:");
    expect(wasm.detail).toContain('failed to fetch tfjs-backend-wasm-simd.wasm');
  });

  it('rejects when not even cpu is available, naming @tensorflow/tfjs-backend-cpu', async () => {
    mods = fakeModules();
    tf.removeBackend('cpu');
    try {
      const err = (await useNodeBackend({ loader: mods.loader({ wasm: true, cpu: true }), probeGpu: noGpu }).catch(
        (e: unknown) => e,
      )) as BackendUnavailableError;
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(err.attempts.map((a) => a.reason)).toEqual(['no-gpu', 'not-installed', 'not-installed', 'not-installed']);
      expect(err.message).toContain('Install it: npm install @tensorflow/tfjs-backend-cpu@4.22.0');
    } finally {
      tf.registerBackend('cpu', () => new MathBackendCPU(), 1);
    }
  });

  it("order ['wasm', 'cpu'] never looks for tfjs-node, and falls from a missing wasm to cpu", async () => {
    mods = fakeModules();
    const fake = mods.loader({ wasm: true });
    const loads: string[] = [];
    const report = await useNodeBackend({
      order: ['wasm', 'cpu'],
      loader: { load: (name) => (loads.push(name), fake.load(name)) },
      probeGpu: () => Promise.reject(new Error('the GPU probe must not run')),
    });
    expect(loads).toEqual(['@tensorflow/tfjs-backend-wasm']);
    expect(report.backend).toBe('cpu');
    expect(report.skipped.map((s) => s.detail)).toEqual(['@tensorflow/tfjs-backend-wasm is not installed.']);
  });

  it('rejects an order that is empty, names an unknown backend, or comes with a named backend', async () => {
    await expect(useNodeBackend({ order: [] })).rejects.toThrow(InvalidArgumentError);
    await expect(useNodeBackend({ order: ['wasm', 'webgl' as never] })).rejects.toThrow(
      `useNodeBackend: order must be a non-empty list of 'tensorflow', 'wasm', 'cpu' used with backend 'auto', got "webgl".`,
    );
    await expect(useNodeBackend({ backend: 'cpu', order: ['cpu'] })).rejects.toThrow("with backend 'cpu'");
  });
});
