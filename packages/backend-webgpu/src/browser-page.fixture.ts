// The page the browser test loads (bundled with esbuild): exposes the adapter and the shared backend contract to the
// test, which drives Chromium through playwright-core and compares the numbers in Node.
import * as tf from '@tensorflow/tfjs';
import { gradientStats } from '@gradguard/core';
import { clipByGlobalNorm } from '@gradguard/mitigations';
import { runBackendContract } from '@gradguard/vitest-config/backend-contract';
import { type WebBackendChoice, type WebBackendReport, useWebGpuBackend } from './use-webgpu-backend';

/** The report without `error` objects, which do not survive structured cloning to the test. */
function plain(report: WebBackendReport) {
  return { ...report, skipped: report.skipped.map(({ error: _error, ...rest }) => rest) };
}

const api = {
  async adapterInfo() {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return { navigatorGpu: false as const };
    const adapter = await gpu.requestAdapter();
    return { navigatorGpu: true as const, architecture: adapter?.info?.architecture ?? null, vendor: adapter?.info?.vendor ?? null };
  },
  async use(backend: WebBackendChoice) {
    try {
      return { report: plain(await useWebGpuBackend({ backend, cpuForward: false })) };
    } catch (e) {
      const err = e as Error & { code?: string };
      return { error: { name: err.name, code: err.code, message: err.message } };
    } finally {
      await tf.setBackend('cpu');
    }
  },
  async contract(backend: WebBackendChoice) {
    const deps = { tf, gradientStats, clipByGlobalNorm };
    await tf.setBackend('cpu');
    const reference = await runBackendContract(deps, 'cpu');
    const report = await useWebGpuBackend({ backend, cpuForward: false });
    const actual = await runBackendContract(deps, report.backend);
    await tf.setBackend('cpu');
    return { report: plain(report), reference, actual };
  },
};

(globalThis as unknown as { gradguard: typeof api }).gradguard = api;
export type BrowserApi = typeof api;
