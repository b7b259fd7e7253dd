// The page the browser test loads (bundled with esbuild): exposes the adapter and the shared backend contract to the
// test, which drives Chromium through playwright-core and compares the numbers in Node.
import * as tf from '@tensorflow/tfjs';
import { gradientStats } from '@gradguard/core';
import { chain, clipByGlobalNorm, guard, skipNonFinite } from '@gradguard/mitigations';
import { contractGradients, statsContractMismatches } from '@gradguard/vitest-config/stats-contract';
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
  /** The statistics contract (NaN, ±Infinity, zero, empty, 1e30, 1e-30) with the active backend's kernel. */
  async statsContract(backend: WebBackendChoice) {
    const report = await useWebGpuBackend({ backend, cpuForward: false });
    try {
      const before = tf.memory().numTensors;
      const grads = contractGradients(tf);
      const s = await gradientStats(grads, { weights: false });
      tf.dispose(Object.values(grads));
      return { backend: report.backend, mismatches: statsContractMismatches(s.variables), leaked: tf.memory().numTensors - before };
    } finally {
      await tf.setBackend('cpu');
    }
  },
  /** An exact skip on the device path: Adam's weights after [g, NaN, g] equal those after [g, g]. */
  async exactSkip(backend: WebBackendChoice) {
    const report = await useWebGpuBackend({ backend, cpuForward: false });
    try {
      const run = async (steps: number[][], guarded: boolean) => {
        const w = tf.variable(tf.tensor([0.5, -0.5]), true, `skip_${backend}_${guarded}_${steps.length}`);
        const inner = tf.train.adam(0.1, 0.9, 0.999, 1e-7);
        const opt = guarded ? guard(inner, { transform: chain(skipNonFinite(), clipByGlobalNorm(100)) }) : inner;
        for (const g of steps) {
          const t = tf.tensor(g);
          opt.applyGradients([{ name: w.name, tensor: t }]);
          t.dispose();
        }
        if (guarded) await (opt as ReturnType<typeof guard>).flush();
        const out = Array.from(await w.data());
        opt.dispose();
        w.dispose();
        return out;
      };
      const skipped = await run([[1, 2], [Number.NaN, 1], [0.5, -1]], true);
      const clean = await run([[1, 2], [0.5, -1]], false);
      return { backend: report.backend, skipped, clean };
    } finally {
      await tf.setBackend('cpu');
    }
  },
};

(globalThis as unknown as { gradguard: typeof api }).gradguard = api;
export type BrowserApi = typeof api;
