// A real GPU entry point with no adapter: Dawn pointed at a Vulkan driver list that does not exist.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWebGpuBackend } from './use-webgpu-backend';

process.env.VK_ICD_FILENAMES = '/nonexistent/vk_icd.json';
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);

describe('useWebGpuBackend when requestAdapter() finds nothing', () => {
  it('falls back, saying no adapter was found and how to get one', async () => {
    const report = await useWebGpuBackend({ gpu: create([]) });
    expect(report.skipped[0]).toMatchObject({ backend: 'webgpu', reason: 'no-adapter' });
    expect(report.skipped[0]!.detail).toContain('requestAdapter() returned null');
    expect(report.skipped[0]!.detail).toContain('VK_ICD_FILENAMES');
    expect(report.adapter).toBeUndefined();
    expect(report.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
