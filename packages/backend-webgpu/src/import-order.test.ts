// A common trap, for real: the app imports @tensorflow/tfjs-backend-webgpu before navigator.gpu exists (in Node, before
// setting it from Dawn), so the backend never registers. The adapter must say so, not fail silently or crash.
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWebGpuBackend } from './use-webgpu-backend';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);

describe('useWebGpuBackend after the webgpu backend was imported too early', () => {
  it('reports that the package registered no backend and why, then falls back', async () => {
    expect(tf.findBackendFactory('webgpu')).toBeNull();
    const report = await useWebGpuBackend({ gpu: create([]) });
    expect(report.adapter?.architecture).toBe('swiftshader');
    expect(report.skipped[0]).toMatchObject({ backend: 'webgpu', reason: 'not-registered' });
    expect(report.skipped[0]!.detail).toContain('imported before navigator.gpu existed');
    expect(report.backend).toBe('cpu');
  });

  it('reports a backend whose initialisation fails, with what tfjs logged', async () => {
    const report = await useWebGpuBackend({
      loaders: {
        // Registers like a real backend package, but its factory fails the way a missing .wasm file does.
        wasm: async () => {
          tf.registerBackend('wasm', () => Promise.reject(new Error('failed to fetch tfjs-backend-wasm-simd.wasm')), 2);
        },
      },
    });
    try {
      const wasm = report.skipped.find((s) => s.backend === 'wasm')!;
      expect(wasm.reason).toBe('init-failed');
      expect(wasm.detail).toContain('failed to fetch tfjs-backend-wasm-simd.wasm');
      expect(report.backend).toBe('cpu');
    } finally {
      tf.removeBackend('wasm');
    }
  });
});
