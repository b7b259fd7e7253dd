// Fallbacks in Node, where there is no navigator.gpu and no WebGL; each test provokes one path.
import * as tf from '@tensorflow/tfjs';
import { GradguardError, InvalidArgumentError } from '@gradguard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useWebGpuBackend } from './use-webgpu-backend';

afterEach(async () => {
  await tf.setBackend('cpu');
});

describe('useWebGpuBackend fallbacks', () => {
  it('without navigator.gpu and WebGL, falls to cpu, giving a reason for each better backend', async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    const report = await useWebGpuBackend();
    expect(report.backend).toBe('cpu');
    expect(report.adapter).toBeUndefined();
    expect(report.skipped.map((s) => [s.backend, s.reason])).toEqual([
      ['webgpu', 'no-webgpu'],
      ['webgl', 'unsupported'],
      ['wasm', 'not-registered'],
    ]);
    expect(report.skipped[0]!.detail).toContain('--enable-unsafe-webgpu');
    expect(report.skipped[2]!.detail).toBe(
      "the 'wasm' backend is not registered: import '@tensorflow/tfjs-backend-wasm' in your app, or pass " +
        "loaders.wasm: () => import('@tensorflow/tfjs-backend-wasm').",
    );
  });

  it('reports a wasm loader whose package cannot be found as not installed', async () => {
    // A real dynamic import that fails to resolve (the package name is built at run time so no bundler resolves it).
    const report = await useWebGpuBackend({
      loaders: { wasm: () => import(/* @vite-ignore */ ['@tensorflow', 'tfjs-backend-wasm-missing'].join('/')) },
    });
    expect(report.backend).toBe('cpu');
    const wasm = report.skipped.find((s) => s.backend === 'wasm')!;
    expect(wasm.reason).toBe('not-installed');
    expect(wasm.detail).toBe('@tensorflow/tfjs-backend-wasm is not installed.');
    expect((wasm.error as Error).message).toContain("Cannot find package '@tensorflow/tfjs-backend-wasm-missing'");
  });

  it('reports a wasm loader whose module throws as a load failure, quoting the error', async () => {
    const report = await useWebGpuBackend({ loaders: { wasm: () => import('./throwing-module.fixture') } });
    expect(report.backend).toBe('cpu');
    expect(report.skipped.find((s) => s.backend === 'wasm')).toMatchObject({
      reason: 'load-failed',
      detail: '@tensorflow/tfjs-backend-wasm failed to load: this module cannot run here.',
    });
  });

  it('a wasm loader makes wasm the fallback', async () => {
    const report = await useWebGpuBackend({ loaders: { wasm: () => import('@tensorflow/tfjs-backend-wasm') } });
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("'webgpu' without navigator.gpu rejects with BACKEND_UNAVAILABLE naming the package and the fix", async () => {
    const err = (await useWebGpuBackend({ backend: 'webgpu' }).catch((e: unknown) => e)) as GradguardError;
    expect(err).toBeInstanceOf(GradguardError);
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(err.message).toContain("The 'webgpu' backend is unavailable: navigator.gpu is undefined");
    expect(err.message).toContain('Install and import @tensorflow/tfjs-backend-webgpu@4.22.0');
    expect(tf.getBackend()).toBe('cpu');
  });

  it("'webgl' in Node rejects saying WebGL needs a browser", async () => {
    await expect(useWebGpuBackend({ backend: 'webgl' })).rejects.toThrow(
      "The 'webgl' backend is unavailable: WebGL needs a browser (there is no document or OffscreenCanvas here).",
    );
  });

  it('rejects an unknown backend name with a typed error', async () => {
    await expect(useWebGpuBackend({ backend: 'tensorflow' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(useWebGpuBackend({ powerPreference: 'fast' as never })).rejects.toThrow(
      `useWebGpuBackend: powerPreference must be 'low-power' or 'high-performance', got "fast".`,
    );
  });
});
