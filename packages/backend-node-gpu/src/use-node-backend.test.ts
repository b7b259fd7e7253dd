import * as tf from '@tensorflow/tfjs';
import { GradguardError, InvalidArgumentError } from '@gradguard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './errors';
import {
  BROKEN_BINDING_INDEX,
  type FakeModules,
  MISSING_CUDART_INDEX,
  WORKING_TFJS_NODE,
  addTfjsNodeWithOwnCore,
  fakeModules,
} from './fake-packages.fixture';
import type { GpuProbe } from './gpu-probe';
import { useNodeBackend } from './use-node-backend';

const H100: GpuProbe = {
  visible: true,
  devices: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, driverVersion: '550.54.15' }],
};
const gpuVisible = () => Promise.resolve(H100);
const noGpu = (): Promise<GpuProbe> =>
  Promise.resolve({ visible: false, reason: 'nvidia-smi was not found on PATH (no NVIDIA driver installed)' });

let mods: FakeModules | undefined;
afterEach(async () => {
  mods?.remove();
  mods = undefined;
  if (tf.findBackend('tensorflow') || tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  await tf.setBackend('cpu');
});

describe('useNodeBackend: automatic choice', () => {
  it('falls back to wasm when neither tfjs-node-gpu nor tfjs-node is installed, and says so', async () => {
    mods = fakeModules();
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: gpuVisible });
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.packageName).toBe('@tensorflow/tfjs-backend-wasm');
    expect(report.requested).toBe('auto');
    expect(report.skipped.map((s) => [s.packageName, s.reason])).toEqual([
      ['@tensorflow/tfjs-node-gpu', 'not-installed'],
      ['@tensorflow/tfjs-node', 'not-installed'],
    ]);
    expect(report.gpu).toBeUndefined();
    expect(report.summary).toBe(
      'backend wasm (@tensorflow/tfjs-backend-wasm); skipped: @tensorflow/tfjs-node-gpu is not installed. ' +
        '@tensorflow/tfjs-node is not installed.',
    );
  });

  it('does not try the GPU build when no GPU is visible, and gives the probe reason', async () => {
    mods = fakeModules();
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: noGpu });
    expect(report.skipped[0]).toEqual({
      backend: 'tensorflow',
      packageName: '@tensorflow/tfjs-node-gpu',
      reason: 'no-gpu',
      detail:
        '@tensorflow/tfjs-node-gpu was not tried: no GPU is visible (nvidia-smi was not found on PATH (no NVIDIA driver installed)).',
    });
    expect(report.backend).toBe('wasm');
  });

  it('skips a tfjs-node-gpu whose native binding fails to dlopen, quoting the real loader error', async () => {
    mods = fakeModules();
    mods.add('@tensorflow/tfjs-node-gpu', {
      'index.js': BROKEN_BINDING_INDEX,
      'lib/napi-v8/tfjs_binding.node': 'not a shared object',
    });
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: gpuVisible });
    const gpu = report.skipped[0]!;
    expect(gpu.reason).toBe('load-failed');
    expect((gpu.error as NodeJS.ErrnoException).code).toBe('ERR_DLOPEN_FAILED');
    expect(gpu.detail).toMatch(/^@tensorflow\/tfjs-node-gpu failed to load: .*tfjs_binding\.node: .*ERR_DLOPEN_FAILED/);
    expect(report.skipped[1]!.reason).toBe('not-installed');
    expect(report.backend).toBe('wasm');
  });

  it('skips a tfjs-node-gpu that cannot find libcudart and takes tfjs-node instead', async () => {
    mods = fakeModules();
    mods.add('@tensorflow/tfjs-node-gpu', { 'index.js': MISSING_CUDART_INDEX });
    mods.link('@tensorflow/tfjs');
    mods.link('@tensorflow/tfjs-backend-cpu');
    mods.add('@tensorflow/tfjs-node', { 'index.js': WORKING_TFJS_NODE });
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: gpuVisible });
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]!.detail).toContain('libcudart.so.11.0: cannot open shared object file');
    expect(report.backend).toBe('tensorflow');
    expect(report.packageName).toBe('@tensorflow/tfjs-node');
    expect(report.core).toMatchObject({ single: true, appVersion: '4.22.0', loadedVersion: '4.22.0' });
    expect(report.warnings).toEqual([]);
    expect(report.gpu).toBeUndefined();
    // The activated backend computes.
    const y = tf.tidy(() => tf.sum(tf.tensor([1, 2, 3.5])));
    expect(await y.data()).toEqual(new Float32Array([6.5]));
    y.dispose();
  });

  it('takes tfjs-node when tfjs-node-gpu loads but its backend fails to start', async () => {
    mods = fakeModules();
    mods.link('@tensorflow/tfjs');
    mods.link('@tensorflow/tfjs-backend-cpu');
    mods.add('@tensorflow/tfjs-node-gpu', {
      'index.js': `
        const tf = require('@tensorflow/tfjs');
        tf.registerBackend('tensorflow', () => { throw new Error('cuInit failed: CUDA_ERROR_NO_DEVICE'); }, 3);
        module.exports = tf;`,
    });
    mods.add('@tensorflow/tfjs-node', { 'index.js': WORKING_TFJS_NODE });
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: gpuVisible });
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]).toMatchObject({ packageName: '@tensorflow/tfjs-node-gpu', reason: 'init-failed' });
    expect(report.skipped[0]!.detail).toContain('CUDA_ERROR_NO_DEVICE');
    expect(report).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node' });
    const y = tf.tidy(() => tf.sum(tf.tensor([1, 2, 3.5])));
    expect(await y.data()).toEqual(new Float32Array([6.5]));
    y.dispose();
  });

  it('uses tfjs-node-gpu when it loads and a GPU is visible, and reports the device', async () => {
    mods = fakeModules();
    mods.link('@tensorflow/tfjs');
    mods.link('@tensorflow/tfjs-backend-cpu');
    mods.add('@tensorflow/tfjs-node-gpu', { 'index.js': WORKING_TFJS_NODE });
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: gpuVisible });
    expect(report.backend).toBe('tensorflow');
    expect(report.packageName).toBe('@tensorflow/tfjs-node-gpu');
    expect(report.skipped).toEqual([]);
    expect(report.gpu).toEqual({ devices: H100.devices });
    expect(report.summary).toBe('backend tensorflow (@tensorflow/tfjs-node-gpu) on NVIDIA H100 80GB HBM3 (81559 MiB)');
  });

  it('warns when tfjs-node brings its own copy of tfjs-core, naming both versions and the fix', async () => {
    mods = fakeModules();
    addTfjsNodeWithOwnCore(mods, '4.21.0');
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: noGpu });
    // The second copy registered no 'tensorflow' backend, so the chain went on to wasm, but the copy is reported.
    const node = report.skipped[1]!;
    expect(node.reason).toBe('not-registered');
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toContain('@tensorflow/tfjs-node loaded its own copy of @tensorflow/tfjs-core 4.21.0 beside the app');
    expect(report.warnings[0]).toContain('npm dedupe');
    expect(report.backend).toBe('wasm');
  });

  it('with strictCore, refuses a tfjs-node that brings its own tfjs-core', async () => {
    mods = fakeModules();
    addTfjsNodeWithOwnCore(mods, '4.21.0');
    const report = await useNodeBackend({ loader: mods.loader(), probeGpu: noGpu, strictCore: true });
    expect(report.skipped[1]).toMatchObject({ packageName: '@tensorflow/tfjs-node', reason: 'load-failed' });
    expect(report.skipped[1]!.detail).toContain('two tfjs-core copies');
    expect(report.warnings).toEqual([]);
  });
});

describe('useNodeBackend: a named backend', () => {
  it("'tensorflow' with neither package installed rejects with a typed error naming both packages and the fix", async () => {
    mods = fakeModules();
    const err = await useNodeBackend({ backend: 'tensorflow', loader: mods.loader(), probeGpu: gpuVisible }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err).toBeInstanceOf(GradguardError);
    const e = err as BackendUnavailableError;
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.backend).toBe('tensorflow');
    expect(e.attempts.map((a) => a.reason)).toEqual(['not-installed', 'not-installed']);
    expect(e.message).toContain(
      "The 'tensorflow' backend is unavailable: @tensorflow/tfjs-node-gpu is not installed. @tensorflow/tfjs-node is not installed.",
    );
    expect(e.message).toContain('Install @tensorflow/tfjs-node@4.22.0 (CPU) or @tensorflow/tfjs-node-gpu@4.22.0');
    expect(tf.getBackend()).toBe('cpu'); // nothing was switched
  });

  it("'tensorflow' keeps the load error as the cause", async () => {
    mods = fakeModules();
    mods.add('@tensorflow/tfjs-node', { 'index.js': MISSING_CUDART_INDEX });
    const err = (await useNodeBackend({ backend: 'tensorflow', loader: mods.loader(), probeGpu: noGpu }).catch(
      (e: unknown) => e,
    )) as BackendUnavailableError;
    expect(err.attempts.map((a) => a.reason)).toEqual(['no-gpu', 'load-failed']);
    expect((err.cause as Error).message).toContain('libcudart.so.11.0');
    expect(err.message).toContain('npm rebuild');
  });

  it("'wasm' activates wasm", async () => {
    const report = await useNodeBackend({ backend: 'wasm' });
    expect(report).toMatchObject({ backend: 'wasm', requested: 'wasm', skipped: [] });
    expect(tf.getBackend()).toBe('wasm');
  });

  it("'cpu' activates cpu without loading anything (the app's @tensorflow/tfjs registered it)", async () => {
    const loads: string[] = [];
    const report = await useNodeBackend({
      backend: 'cpu',
      loader: { load: (name) => (loads.push(name), Promise.resolve({ status: 'not-installed' })) },
    });
    expect(report.backend).toBe('cpu');
    expect(loads).toEqual([]);
  });

  it('rejects an unknown backend name with a typed error listing the choices', async () => {
    await expect(useNodeBackend({ backend: 'webgpu' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(useNodeBackend({ backend: 'gpu' as never })).rejects.toThrow(
      `useNodeBackend: backend must be one of 'auto', 'tensorflow', 'wasm', 'cpu', got "gpu".`,
    );
  });
});
