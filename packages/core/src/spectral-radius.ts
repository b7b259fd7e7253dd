import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, checkNumber, describeValue } from './errors';
import { type LayerLike, type LayerMap, mapVariablesToLayers } from './layer-map';
import type { RecurrentStatistics } from './run-log/statistics';

/** Gate names of each recurrent class, in the order tfjs lays them out along the recurrent kernel's last axis. */
export const RECURRENT_GATES: Readonly<Record<string, readonly string[]>> = {
  SimpleRNN: ['all'],
  LSTM: ['i', 'f', 'c', 'o'],
  GRU: ['z', 'r', 'h'],
};

export interface SpectralOptions {
  /**
   * Number of repeated squarings: the estimate compares ‖A^(2^m)‖ with ‖A^(2^(m-1))‖. Default 12 (powers up to
   * 4096), which pins the radius of any diagonalizable matrix to float precision and of a defective one to 2^(1/2048)
   * ≈ 1.0003. Costs m batched u×u matrix products per layer.
   */
  readonly squarings?: number;
}

/** One recurrent kernel found in a model. */
export interface RecurrentKernel {
  readonly layer: string;
  readonly className: string;
  /** The gradient-map key (variable name) of the recurrent kernel. */
  readonly variable: string;
  readonly timeSteps?: number;
}

/** Spectral measurements still on the device; the caller disposes `tensor` after reading it. */
export interface PendingSpectra {
  readonly tensor: tf.Tensor1D;
  decode(values: ArrayLike<number>, offset?: number): RecurrentStatistics[];
}

/** The SimpleRNN, LSTM and GRU recurrent kernels of a model (or a layer map), in layer order. */
export function findRecurrentKernels(model: LayerLike | LayerMap): RecurrentKernel[] {
  const map = model instanceof Map ? (model as LayerMap) : mapVariablesToLayers(model as LayerLike);
  const out: RecurrentKernel[] = [];
  for (const [variable, loc] of map) {
    if (loc.weight !== 'recurrent_kernel' || RECURRENT_GATES[loc.className] === undefined) continue;
    out.push({
      layer: loc.layer,
      className: loc.className,
      variable,
      ...(loc.timeSteps !== undefined ? { timeSteps: loc.timeSteps } : {}),
    });
  }
  return out;
}

/**
 * Spectral radius ρ(A) (largest |eigenvalue|) of each matrix of a batch `[b, n, n]`, by the power method on the matrix
 * itself: repeated squaring A, A², A⁴, … with each power rescaled to unit Frobenius norm, so that by Gelfand's formula
 * ρ = lim ‖A^k‖^(1/k). Returns, on the device, `[b, m + 1]` sums of squares: column 0 is ‖A‖², column j the squared
 * norm of the square of the (j-1)-th rescaled power. `decodeRadius` turns one row into ρ on the host in float64.
 */
function powerNormsOnDevice(batch: tf.Tensor3D, squarings: number): tf.Tensor2D {
  return tf.tidy(() => {
    const s0 = tf.sum(tf.square(batch), [1, 2], true);
    const cols: tf.Tensor[] = [s0];
    // tiny keeps an all-zero power finite (0 · rsqrt(tiny) = 0): its log is then -Infinity and the radius 0.
    const tiny = tf.scalar(1e-30);
    let b: tf.Tensor = tf.mul(batch, tf.rsqrt(tf.maximum(s0, tiny)));
    for (let j = 0; j < squarings; j++) {
      const p = tf.matMul(b as tf.Tensor3D, b as tf.Tensor3D);
      const s = tf.sum(tf.square(p), [1, 2], true);
      cols.push(s);
      b = tf.mul(p, tf.rsqrt(tf.maximum(s, tiny)));
    }
    return tf.reshape(tf.concat(cols, 1), [batch.shape[0], squarings + 1]) as tf.Tensor2D;
  });
}

/**
 * ρ from one row of `powerNormsOnDevice`: with L_j = ln‖A^(2^j)‖ (L_0 = ½ln s_0, L_{j+1} = ½ln s_{j+1} + 2L_j),
 * ρ ≈ exp((L_m − L_{m−1}) / 2^(m−1)). Taking the ratio of two powers cancels the constant in ‖A^k‖ ≈ C·ρ^k.
 */
export function decodeRadius(row: ArrayLike<number>): number {
  const m = row.length - 1;
  let prev = 0.5 * Math.log(row[0]!);
  if (!(prev > Number.NEGATIVE_INFINITY)) return Number.isNaN(prev) ? Number.NaN : 0;
  let cur = prev;
  for (let j = 1; j <= m; j++) {
    const s = row[j]!;
    if (Number.isNaN(s)) return Number.NaN;
    if (!(s > 0)) return 0; // a power vanished: the matrix is nilpotent
    prev = cur;
    cur = 0.5 * Math.log(s) + 2 * cur;
  }
  return m === 0 ? Math.exp(prev) : Math.exp((cur - prev) / 2 ** (m - 1));
}

/**
 * Spectral radius and largest singular value of each square matrix in `[b, n, n]` (or one `[n, n]`), on the device,
 * read back once. The largest singular value is √ρ(AᵀA), by the same method.
 */
export async function spectralRadius(
  matrices: tf.Tensor,
  options: SpectralOptions = {},
): Promise<{ spectralRadius: number; maxSingularValue: number }[]> {
  const squarings = checkSquarings('spectralRadius', options.squarings);
  if (!(matrices instanceof tf.Tensor) || matrices.rank < 2 || matrices.rank > 3) {
    throw new InvalidArgumentError(
      `spectralRadius: expected a tensor of shape [n, n] or [b, n, n], got ${matrices instanceof tf.Tensor ? `shape [${matrices.shape.join(', ')}]` : describeValue(matrices)}.`,
    );
  }
  const [n, n2] = matrices.shape.slice(-2);
  if (n !== n2) {
    throw new InvalidArgumentError(`spectralRadius: matrices must be square, got [${n}, ${n2}].`);
  }
  const b = matrices.rank === 3 ? matrices.shape[0]! : 1;
  const norms = tf.tidy(() => {
    const a = tf.reshape(tf.cast(matrices, 'float32'), [b, n!, n!]) as tf.Tensor3D;
    return powerNormsOnDevice(tf.concat([a, tf.matMul(a, a, true, false)], 0) as tf.Tensor3D, squarings);
  });
  try {
    const v = await norms.data();
    const w = squarings + 1;
    return Array.from({ length: b }, (_, i) => ({
      spectralRadius: decodeRadius(v.subarray(i * w, (i + 1) * w)),
      maxSingularValue: Math.sqrt(decodeRadius(v.subarray((b + i) * w, (b + i + 1) * w))),
    }));
  } finally {
    norms.dispose();
  }
}

function checkSquarings(where: string, value: number | undefined): number {
  return checkNumber(where, 'squarings', value ?? 12, { min: 1, max: 30, integer: true });
}

/**
 * Builds the spectral measurements of every recurrent kernel (per gate for LSTM and GRU) as one 1-D tensor, so they
 * can ride along in a training step's single readback. The variables are looked up by name in the tfjs engine.
 */
export function recurrentSpectraOnDevice(
  model: LayerLike | LayerMap,
  options: SpectralOptions = {},
): PendingSpectra {
  const squarings = checkSquarings('recurrentSpectraOnDevice', options.squarings);
  const kernels = findRecurrentKernels(model);
  const w = squarings + 1;
  const layout: { kernel: RecurrentKernel; gates: readonly string[] }[] = [];
  const tensor = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (const kernel of kernels) {
      const v = tf.engine().registeredVariables[kernel.variable];
      if (v === undefined) {
        throw new InvalidArgumentError(
          `recurrentSpectraOnDevice: the recurrent kernel "${kernel.variable}" of layer "${kernel.layer}" is not a live variable.`,
          'Was the model disposed? Pass the model you are training.',
        );
      }
      const gates = RECURRENT_GATES[kernel.className]!;
      const [u, cols] = v.shape as [number, number];
      if (cols !== u * gates.length) {
        throw new InvalidArgumentError(
          `recurrentSpectraOnDevice: layer "${kernel.layer}" (${kernel.className}) has a recurrent kernel of shape [${u}, ${cols}], expected [${u}, ${u * gates.length}].`,
        );
      }
      // [u, G·u] → G matrices [u, u]: gate g is columns g·u … (g+1)·u − 1.
      const k = tf.cast(v, 'float32');
      const g = tf.transpose(tf.reshape(k, [u, gates.length, u]), [1, 0, 2]) as tf.Tensor3D;
      parts.push(tf.reshape(powerNormsOnDevice(tf.concat([g, tf.matMul(g, g, true, false)], 0) as tf.Tensor3D, squarings), [-1]));
      layout.push({ kernel, gates });
    }
    return parts.length === 0 ? tf.zeros([0]) : tf.concat(parts);
  }) as tf.Tensor1D;
  return {
    tensor,
    decode(values, offset = 0) {
      const out: RecurrentStatistics[] = [];
      let o = offset;
      for (const { kernel, gates } of layout) {
        const G = gates.length;
        const row = (i: number): ArrayLike<number> => Array.prototype.slice.call(values, o + i * w, o + (i + 1) * w);
        gates.forEach((gate, i) => {
          out.push({
            layer: kernel.layer,
            className: kernel.className,
            gate,
            spectralRadius: decodeRadius(row(i)),
            maxSingularValue: Math.sqrt(decodeRadius(row(G + i))),
            ...(kernel.timeSteps !== undefined ? { timeSteps: kernel.timeSteps } : {}),
          });
        });
        o += 2 * G * w;
      }
      return out;
    },
  };
}

/**
 * The spectral radius and largest singular value of every SimpleRNN/LSTM/GRU recurrent kernel (per gate), measured on
 * the device with one readback. Cheap enough to call every k steps to track how training moves them.
 *
 * A linearized recurrence h_t = W h_{t-1} carries gradients back through T steps multiplied by Wᵀ each step, so
 * they can grow like ρ(W)^T when ρ > 1 and shrink like it when ρ < 1 (Pascanu, Mikolov & Bengio 2013).
 */
export async function recurrentSpectra(
  model: LayerLike | LayerMap,
  options: SpectralOptions = {},
): Promise<RecurrentStatistics[]> {
  const pending = recurrentSpectraOnDevice(model, options);
  try {
    return pending.decode(await pending.tensor.data());
  } finally {
    pending.tensor.dispose();
  }
}
