// WebGPU in Node through Dawn (the `webgpu` package) on SwiftShader's Vulkan driver, which Debian's chromium package
// ships. The adapter must exist: a missing driver fails here loudly instead of looking like a fallback.
import * as tf from '@tensorflow/tfjs';
import { gradientStats } from '@gradguard/core';
import { clipByGlobalNorm } from '@gradguard/mitigations';
import { testBackendContract } from '@gradguard/vitest-config/backend-contract-vitest';
import { describe, expect, it } from 'vitest';
import { useWebGpuBackend } from './use-webgpu-backend';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const { create, globals } = await import('webgpu');
const gpu = create([]);

describe('useWebGpuBackend in Node with Dawn', () => {
  it('skips webgpu, naming the fix, while the WebGPU constants are not globals', async () => {
    expect(typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage).toBe('undefined');
    const report = await useWebGpuBackend({ gpu, loaders: { wasm: () => import('@tensorflow/tfjs-backend-wasm') } });
    expect(report.adapter?.architecture).toBe('swiftshader');
    expect(report.skipped[0]).toMatchObject({ backend: 'webgpu', reason: 'unsupported' });
    expect(report.skipped[0]!.detail).toContain("Object.assign(globalThis, globals) with `globals` from the 'webgpu' package");
    expect(report.skipped[1]).toMatchObject({ backend: 'webgl', reason: 'unsupported' });
    expect(report.backend).toBe('wasm');
    await tf.setBackend('cpu');
  });

  it('finds the SwiftShader adapter and activates webgpu', async () => {
    Object.assign(globalThis, globals);
    const report = await useWebGpuBackend({ gpu, cpuForward: false });
    expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
    expect(report.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader' });
    expect(report.backend).toBe('webgpu');
    expect(report.skipped).toEqual([]);
    expect(report.summary).toMatch(/^backend webgpu on google swiftshader \(SwiftShader driver/);
    await tf.setBackend('cpu');
  });
});

testBackendContract({
  name: 'webgpu (Dawn in Node, SwiftShader)',
  backend: 'webgpu',
  deps: { gradientStats, clipByGlobalNorm },
  activate: () => useWebGpuBackend({ backend: 'webgpu', gpu, cpuForward: false }),
});
