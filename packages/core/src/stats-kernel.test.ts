import * as tf from '@tensorflow/tfjs';
import { contractGradients, statsContractMismatches } from '@gradguard/vitest-config/stats-contract';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGradientMeter, gradientStats } from './gradient-stats';
import { createReadback } from './readback';
import {
  TENSOR_STATS_FIELDS,
  TENSOR_STATS_KERNEL,
  decodeTensorStats,
  hasTensorStatsKernel,
  runTensorStatsKernel,
  tensorStatsReference,
} from './stats-kernel';

// The device path's registered-kernel branch, without a GPU: a kernel registered on cpu that follows the contract in
// plain JavaScript (what the WebGPU and WebGL programs do on the device; those run in @gradguard/backend-webgpu's
// browser tests). `kernel: 'device'` makes the meter take the device path on cpu.
let calls = 0;
function registerCpuKernel(): void {
  tf.registerKernel({
    kernelName: TENSOR_STATS_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      calls++;
      const cpu = backend as unknown as { readSync(id: tf.DataId): Float32Array; makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
      const out: number[] = [];
      for (let i = 0; inputs[`x${i}`] !== undefined; i++) out.push(...tensorStatsReference(cpu.readSync(inputs[`x${i}`]!.dataId)));
      return cpu.makeTensorInfo([out.length], 'float32', Float32Array.from(out));
    },
  });
}

beforeEach(async () => {
  await tf.setBackend('cpu');
  registerCpuKernel();
  calls = 0;
});
afterEach(() => {
  tf.unregisterKernel(TENSOR_STATS_KERNEL, 'cpu');
});

describe('tensorStatsReference and decodeTensorStats', () => {
  it('computes Σ(x/m)², m, counts by hand', () => {
    // m = 4; Σ(x/4)² = (1 + 4 + 16 + 0)/16 = 21/16; Σx² = 21.
    expect(tensorStatsReference([1, -2, 4, 0])).toEqual([21 / 16, 4, 0, 0, 1]);
    expect(decodeTensorStats([21 / 16, 4, 0, 0, 1], 0)).toEqual({ sumSquares: 21, maxSquare: 16, nonFinite: 0, zeros: 1 });
    // NaN wins over Infinity; the finite entries still give m and the zero count.
    expect(tensorStatsReference([Number.NaN, Number.POSITIVE_INFINITY, -3, 0, -0])).toEqual([1, 3, 2, 1, 2]);
    expect(decodeTensorStats([1, 3, 2, 1, 2], 0).sumSquares).toBeNaN();
    expect(decodeTensorStats([1, 3, 1, 0, 0], 0).sumSquares).toBe(Number.POSITIVE_INFINITY);
    // 1e30 would overflow float32 squared; scaled it is 1.25 · (2e30)² in float64.
    expect(decodeTensorStats(tensorStatsReference([1e30, -2e30]), 0).sumSquares / 5e60).toBeCloseTo(1, 6);
    expect(decodeTensorStats([0, 0, 0, 0, 3], 0)).toEqual({ sumSquares: 0, maxSquare: 0, nonFinite: 0, zeros: 3 });
  });
});

describe('the registered statistics kernel (device path)', () => {
  it('is found by backend name, and runs once for every tensor', () => {
    expect(hasTensorStatsKernel('cpu')).toBe(true);
    expect(hasTensorStatsKernel('wasm')).toBe(false);
    const out = runTensorStatsKernel([tf.tensor([3, -4]), tf.tensor([[0, 1e-30]])]);
    expect(out.shape).toEqual([2 * TENSOR_STATS_FIELDS]);
    expect(decodeTensorStats(out.dataSync(), 0).sumSquares).toBeCloseTo(25, 5);
    expect(decodeTensorStats(out.dataSync(), 1).zeros).toBe(1);
    expect(calls).toBe(1);
    tf.dispose(out);
  });

  it('refuses empty and int32 inputs and a backend without the kernel, naming the fix', async () => {
    expect(() => runTensorStatsKernel([tf.tensor([], [0])])).toThrow(/input 0 is empty/);
    expect(() => runTensorStatsKernel([tf.tensor([1], [1], 'int32')])).toThrow(/input 0 is int32.*tf\.cast/);
    tf.unregisterKernel(TENSOR_STATS_KERNEL, 'cpu');
    expect(() => runTensorStatsKernel([tf.tensor([1])])).toThrow(/cpu backend has no "GradguardTensorStats" kernel.*registerStatsKernels/);
    registerCpuKernel();
  });

  it('the contract holds through it (NaN, ±Infinity, zeros, empty, 1e30, 1e-30), leak-free', async () => {
    const grads = contractGradients(tf);
    const s = await expectNoLeak(() => gradientStats(grads, { kernel: 'device', weights: false }));
    expect(statsContractMismatches(s.variables)).toEqual([]);
    // Unlike the fused graph's float32 Σw², the kernel scales every tensor: 1e30 stays finite.
    expect(s.variables.find((v) => v.name === 'huge')!.norm / Math.sqrt(5.25e60)).toBeCloseTo(1, 6);
    expect(calls).toBe(1);
    tf.dispose(Object.values(grads));
  });

  it('is the one kernel a measured step dispatches (the fused graph: dozens), and agrees with the host pass', async () => {
    const vars = [[6, 16], [16], [16, 16], [16], [16, 3], [3]].map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', i + 7), true, `sk_${i}`));
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.mul(v, i % 2 === 0 ? 0.5 : -3)));
    const run = async (kernel: 'device' | 'host') => {
      const meter = createGradientMeter({ kernel });
      const readback = createReadback(kernel);
      let measured: ReturnType<typeof meter.measure> | undefined;
      const profile = await tf.profile(() => {
        measured = meter.measure(grads, readback);
      });
      const stats = measured!.decode(await readback.read());
      readback.dispose();
      return { stats, kernels: profile.kernels.map((k) => k.name) };
    };
    const device = await run('device');
    const host = await run('host');
    tf.unregisterKernel(TENSOR_STATS_KERNEL, 'cpu');
    const fused = await run('device');
    registerCpuKernel();
    expect(device.kernels).toEqual([TENSOR_STATS_KERNEL]);
    expect(host.kernels).toEqual([]);
    expect(fused.kernels.length).toBeGreaterThan(20);
    expect(fused.kernels).not.toContain(TENSOR_STATS_KERNEL);
    for (const [i, v] of device.stats.variables.entries()) {
      for (const other of [host.stats.variables[i]!, fused.stats.variables[i]!]) {
        expect(v.norm / other.norm).toBeCloseTo(1, 6);
        expect(v.maxAbs / other.maxAbs).toBeCloseTo(1, 6);
        expect(v.weightNorm! / other.weightNorm!).toBeCloseTo(1, 6);
        expect(v.zeros).toBe(other.zeros);
      }
      // Hand check: the gradient is the weight times 0.5 or -3.
      expect(v.norm / v.weightNorm!).toBeCloseTo(i % 2 === 0 ? 0.5 : 3, 5);
    }
    tf.dispose([...vars, ...Object.values(grads)]);
  });

  it('histogram steps take the fused graph, which bins them; updates and empty variables decode like it', async () => {
    const grads = { a: tf.tensor([1, -2, 0.5]), e: tf.tensor([], [0]) };
    const updates = { a: tf.tensor([0.1, 0, 0]), e: tf.tensor([], [0]) };
    const withHist = await gradientStats(grads, { kernel: 'device', weights: false, histogram: true });
    expect(calls).toBe(0);
    expect(withHist.histogram!.reduce((a, b) => a + b, 0)).toBe(3);
    const s = await expectNoLeak(() => gradientStats(grads, { kernel: 'device', weights: false, updates }));
    expect(calls).toBe(1);
    expect(s.variables[0]!.updateNorm).toBeCloseTo(0.1, 7);
    expect(s.variables[1]).toMatchObject({ size: 0, norm: 0, nonFinite: 0, updateNorm: 0 });
    expect(s.globalNorm).toBeCloseTo(Math.sqrt(5.25), 6);
    tf.dispose([...Object.values(grads), ...Object.values(updates)]);
  });

  it('leaks no tensor over 200 measured steps with NaN and Infinity injected', async () => {
    const meter = createGradientMeter({ kernel: 'device', weights: false });
    const before = tf.memory().numTensors;
    let nonFinite = 0;
    for (let step = 0; step < 200; step++) {
      const bad = step % 7 === 3 ? Number.NaN : step % 11 === 5 ? Number.POSITIVE_INFINITY : step;
      const grads = { w: tf.tensor([[bad, 1], [2, 0]]), b: tf.tensor([step]) };
      const readback = createReadback('device');
      const m = meter.measure(grads, readback);
      tf.dispose(Object.values(grads));
      nonFinite += m.decode(await readback.read()).nonFinite;
      readback.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toBe(200);
    // One non-finite entry on each step ≡ 3 (mod 7) or ≡ 5 (mod 11): 29 + 18 − 3 overlaps = 44.
    let expected = 0;
    for (let step = 0; step < 200; step++) if (step % 7 === 3 || step % 11 === 5) expected++;
    expect(nonFinite).toBe(expected);
  });
});
