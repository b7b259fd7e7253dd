import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors';

/**
 * The name under which a device backend's adapter registers its statistics kernel (`tf.registerKernel`), the way tfjs
 * backends register every op: core looks it up in tfjs's own kernel registry for the active backend and falls back to
 * a graph of stock tfjs ops where none is registered. Core never imports a backend package; the programs live in the
 * adapters (`@gradguard/backend-webgpu` registers one for `webgpu` and one for `webgl`).
 */
export const TENSOR_STATS_KERNEL = 'GradguardTensorStats';

/**
 * What the kernel writes for each input, in input order, `TENSOR_STATS_FIELDS` float32 numbers each:
 * - `scaledSumSquares`: Σ (x / m)² over the finite entries, with m = `maxAbs` (1 when m is 0), so that float32 neither
 *   overflows on 1e30 nor underflows on 1e-30; the host scales back in float64: Σx² = scaledSumSquares · m².
 * - `maxAbs`: m, the largest |x| among the finite entries (0 when there is none).
 * - `nonFinite`: the count of NaN and ±Infinity entries; `nan`: the count of NaN entries alone.
 * - `zeros`: the count of entries exactly ±0.
 * Entries are classified by their bits, not by float comparisons, which GPU compilers may assume NaN-free.
 */
export const TENSOR_STATS_LAYOUT = ['scaledSumSquares', 'maxAbs', 'nonFinite', 'nan', 'zeros'] as const;
export const TENSOR_STATS_FIELDS = TENSOR_STATS_LAYOUT.length;

/** One input's statistics decoded on the host: Σx² by the NaN-first rule (NaN, then +Infinity), max x², counts. */
export interface DecodedTensorStats {
  readonly sumSquares: number;
  readonly maxSquare: number;
  readonly nonFinite: number;
  readonly zeros: number;
}

/** Whether `backendName` (default: the active backend) has a registered statistics kernel. */
export function hasTensorStatsKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(TENSOR_STATS_KERNEL, backendName) !== undefined;
}

/**
 * Runs the active backend's statistics kernel over `tensors` (non-empty float32 tensors of any shape) and returns one
 * float32 tensor of `TENSOR_STATS_FIELDS · tensors.length` numbers (layout: `TENSOR_STATS_LAYOUT`). The caller owns
 * it. Throws when the backend has none: check `hasTensorStatsKernel()` first.
 */
export function runTensorStatsKernel(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  const backend = tf.getBackend();
  if (!hasTensorStatsKernel(backend)) {
    throw new InvalidArgumentError(
      `runTensorStatsKernel: the ${backend} backend has no "${TENSOR_STATS_KERNEL}" kernel.`,
      "Call registerStatsKernels() from '@gradguard/backend-webgpu' (useWebGpuBackend does), or measure with gradientStats, which falls back to stock ops.",
    );
  }
  tensors.forEach((t, i) => {
    if (t.dtype !== 'float32' || t.size === 0) {
      throw new InvalidArgumentError(
        `runTensorStatsKernel: input ${i} is ${t.dtype === 'float32' ? 'empty' : t.dtype}.`,
        'Pass non-empty float32 tensors (cast others with tf.cast; an empty tensor has all-zero statistics).',
      );
    }
  });
  const inputs: Record<string, tf.Tensor> = {};
  tensors.forEach((t, i) => {
    inputs[`x${i}`] = t;
  });
  return tf.engine().runKernel(TENSOR_STATS_KERNEL, inputs, {}) as tf.Tensor1D;
}

/** Decodes input `index` of a kernel's output (read back from the device). */
export function decodeTensorStats(values: ArrayLike<number>, index: number): DecodedTensorStats {
  const o = index * TENSOR_STATS_FIELDS;
  const scaled = values[o]!;
  const m = values[o + 1]!;
  const nonFinite = Math.round(values[o + 2]!);
  const nan = Math.round(values[o + 3]!);
  const scale = m > 0 ? m : 1;
  return {
    sumSquares: nan > 0 ? Number.NaN : nonFinite > 0 ? Number.POSITIVE_INFINITY : scaled * scale * scale,
    maxSquare: m * m,
    nonFinite,
    zeros: Math.round(values[o + 4]!),
  };
}

/**
 * The kernel's contract in plain JavaScript over float32 values, accumulating like a float32 device would be allowed
 * to (the sum in float64 here): the reference the backend programs are tested against, and what a test registers on
 * a host backend to exercise the program path without a GPU.
 */
export function tensorStatsReference(values: ArrayLike<number>): number[] {
  let m = 0;
  let bad = 0;
  let nan = 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.fround(values[i]!);
    if (Number.isNaN(v)) {
      bad++;
      nan++;
    } else if (!Number.isFinite(v)) bad++;
    else {
      m = Math.max(m, Math.abs(v));
      if (v === 0) zeros++;
    }
  }
  const scale = m > 0 ? m : 1;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.fround(values[i]!);
    if (Number.isFinite(v)) s += (v / scale) ** 2;
  }
  return [s, m, bad, nan, zeros];
}
