// The page the browser test loads (bundled with esbuild): exposes the adapter and the shared backend contract to the
// test, which drives Chromium through playwright-core and compares the numbers in Node.
import * as tf from '@tensorflow/tfjs';
import {
  TENSOR_STATS_FIELDS,
  TENSOR_STATS_KERNEL,
  createGradientMeter,
  createReadback,
  gradientStats,
  hasTensorStatsKernel,
  runTensorStatsKernel,
  tensorStatsReference,
} from '@gradguard/core';
import { chain, clipByGlobalNorm, guard, skipNonFinite } from '@gradguard/mitigations';
import { contractGradients, statsContractMismatches } from '@gradguard/vitest-config/stats-contract';
import { runBackendContract } from '@gradguard/vitest-config/backend-contract';
import { type WebBackendChoice, type WebBackendReport, useWebGpuBackend } from './use-webgpu-backend';
import { registerStatsKernels } from './stats-kernels';

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
  /**
   * The one-program statistics kernel against core's fused-op fallback on the same backend: the contract on each, the
   * programs each dispatches per measured step (counted at the backend's program entry point) and the tfjs kernels
   * (`tf.profile`) on a 12-variable dense model with its weights, their agreement, and tensors left after 40 steps.
   */
  async statsProgram(backend: WebBackendChoice) {
    const report = await useWebGpuBackend({ backend, cpuForward: false });
    const be = tf.backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const entry = backend === 'webgpu' ? 'runWebGPUProgram' : 'runWebGLProgram';
    const original = be[entry]!;
    let programs = 0;
    be[entry] = function (this: unknown, ...args: unknown[]) {
      programs++;
      return original.apply(this, args);
    };
    const variables: tf.Variable[] = [];
    try {
      // Odd sizes: a packed WebGL texture pads them, and the program must skip the padding.
      const shapes = [[6, 63], [63], [63, 64], [64], [64, 64], [64], [64, 64], [64], [64, 64], [64], [64, 10], [10]];
      shapes.forEach((s, i) => variables.push(tf.variable(tf.randomNormal(s, 0, 0.2, 'float32', i + 1), true, `sp_${backend}_${i}`)));
      const x = tf.randomNormal([32, 6], 0, 1, 'float32', 99);
      const lossFn = () => {
        let h: tf.Tensor = x;
        for (let l = 0; l < 6; l++) {
          h = tf.add(tf.matMul(h, variables[2 * l]!), variables[2 * l + 1]!);
          if (l < 5) h = tf.relu(h);
        }
        return tf.mean(tf.square(h)) as tf.Scalar;
      };
      const measure = async (kernel: 'program' | 'fallback', grads: tf.NamedTensorMap) => {
        if (kernel === 'fallback') tf.unregisterKernel(TENSOR_STATS_KERNEL, report.backend);
        try {
          const meter = createGradientMeter({ weights: true });
          const readback = createReadback('device');
          programs = 0;
          const pending = meter.measure(grads, readback);
          const dispatched = programs;
          const stats = pending.decode(await readback.read());
          readback.dispose();
          // The tfjs kernels, from a second measurement (tf.profile reads textures back on webgl, which the count above
          // leaves out).
          const again = createReadback('device');
          const profile = await tf.profile(() => {
            meter.measure(grads, again);
          });
          again.dispose();
          return { stats, programs: dispatched, kernels: profile.kernels.length, kernelNames: profile.kernelNames };
        } finally {
          if (kernel === 'fallback') registerStatsKernels();
        }
      };
      const { grads, value } = tf.variableGrads(lossFn);
      value.dispose();
      // Inputs: every gradient and its weight. WebGPU: 7 per dispatch. WebGL: 16 per program, packed (matMul's
      // gradients) and unpacked inputs apart, then one program restoring the order.
      const inputs = [...Object.values(grads), ...variables];
      const texData = (tf.backend() as unknown as { texData?: { get(id: unknown): { isPacked?: boolean } } }).texData;
      const packed = backend === 'webgl' ? inputs.filter((t) => texData?.get(t.dataId).isPacked).length : 0;
      const expectedPrograms = backend === 'webgpu' ? Math.ceil(inputs.length / 7) : Math.ceil(packed / 16) + Math.ceil((inputs.length - packed) / 16) + 1;
      const program = await measure('program', grads);
      const fallback = await measure('fallback', grads);
      const disagreements: string[] = [];
      program.stats.variables.forEach((v, i) => {
        const f = fallback.stats.variables[i]!;
        for (const k of ['norm', 'maxAbs', 'weightNorm'] as const) {
          const a = v[k]!;
          const b = f[k]!;
          if (!(Math.abs(a - b) <= 1e-6 * Math.abs(b))) disagreements.push(`${v.name}.${k}: ${a} vs ${f[k]}`);
        }
        if (v.zeros !== f.zeros || v.nonFinite !== f.nonFinite) disagreements.push(`${v.name}: counts ${v.zeros}/${v.nonFinite} vs ${f.zeros}/${f.nonFinite}`);
      });
      tf.dispose(Object.values(grads));
      // The contract on both paths.
      const contract = async (kernel: 'program' | 'fallback') => {
        if (kernel === 'fallback') tf.unregisterKernel(TENSOR_STATS_KERNEL, report.backend);
        try {
          const g = contractGradients(tf);
          const s = await gradientStats(g, { weights: false });
          tf.dispose(Object.values(g));
          return statsContractMismatches(s.variables);
        } finally {
          if (kernel === 'fallback') registerStatsKernels();
        }
      };
      const mismatches = { program: await contract('program'), fallback: await contract('fallback') };
      // Many steps through the program path: nothing left behind.
      const before = tf.memory().numTensors;
      const meter = createGradientMeter({ weights: true });
      for (let step = 0; step < 40; step++) {
        const { grads: g, value: v } = tf.variableGrads(lossFn);
        const readback = createReadback('device');
        const m = meter.measure(g, readback);
        tf.dispose([v, ...Object.values(g)]);
        m.decode(await readback.read());
        readback.dispose();
      }
      const leaked = tf.memory().numTensors - before;
      x.dispose();
      return {
        backend: report.backend,
        registered: hasTensorStatsKernel(report.backend),
        expectedPrograms,
        packed,
        variables: shapes.length,
        program: { programs: program.programs, kernels: program.kernels, kernelNames: program.kernelNames },
        fallback: { programs: fallback.programs, kernels: fallback.kernels },
        globalNorm: [program.stats.globalNorm, fallback.stats.globalNorm],
        disagreements,
        mismatches,
        leaked,
      };
    } finally {
      delete be[entry];
      tf.dispose(variables);
      await tf.setBackend('cpu');
    }
  },
  /**
   * The kernel itself on device-made tensors against `tensorStatsReference` over their values: batched and odd-sized
   * matMul outputs (packed textures on WebGL) with NaN and ±Infinity rows, a 1e30 row, a long vector (70 000 entries:
   * 274 per WebGPU lane), and tensors uploaded from the CPU.
   */
  async kernelDirect(backend: WebBackendChoice) {
    const report = await useWebGpuBackend({ backend, cpuForward: false });
    try {
      const before = tf.memory().numTensors;
      const made = tf.tidy(() => {
        const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 3);
        const bad = tf.tensor3d([[[Number.NaN, 0, 0, 0], [0, 0, 0, 0], [1, 2, 3, 4]], [[Number.POSITIVE_INFINITY, 0, 0, 0], [0, 0, 0, 0], [1e30, 0, 0, 0]]]);
        return [
          tf.matMul(a, tf.randomNormal([2, 4, 5], 0, 1, 'float32', 4)),
          tf.matMul(tf.add(a, bad), tf.ones([2, 4, 3])),
          tf.matMul(tf.randomNormal([7, 9], 0, 1e-20, 'float32', 5), tf.randomNormal([9, 3], 0, 1e-20, 'float32', 6)),
          tf.relu(tf.randomNormal([70_000], 0, 1, 'float32', 7)),
          tf.tensor([0, -0, 5, -12]),
        ];
      });
      const texData = (tf.backend() as unknown as { texData?: { get(id: unknown): { isPacked?: boolean } } }).texData;
      const packed = made.map((t) => texData?.get(t.dataId).isPacked === true);
      const out = runTensorStatsKernel(made);
      const got = await out.data();
      const mismatches: string[] = [];
      for (const [i, t] of made.entries()) {
        const ref = tensorStatsReference(await t.data());
        const mine = Array.from(got.subarray(i * TENSOR_STATS_FIELDS, (i + 1) * TENSOR_STATS_FIELDS));
        ref.forEach((r, f) => {
          // Σ(x/m)² is summed in float32 on the device (70 000 terms): 2e-5 relative; the max and the counts are exact.
          const ok = f === 0 ? Math.abs(mine[f]! - r) <= 2e-5 * Math.abs(r) : mine[f] === r;
          if (!ok) mismatches.push(`input ${i} (${t.shape.join('x')}${packed[i] ? ', packed' : ''}) field ${f}: ${mine[f]} vs ${r}`);
        });
      }
      tf.dispose([out, ...made]);
      return { backend: report.backend, packed, mismatches, leaked: tf.memory().numTensors - before };
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
