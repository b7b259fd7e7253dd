import * as tf from '@tensorflow/tfjs-core';
import type { KernelFacts } from './detector';
import { hostViewOf } from './host-buffers';
import type { LayerMap } from './layer-map';

/** Inputs per unit of a kernel: the product of every dimension but the last. */
const fanInOf = (shape: readonly number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);

/** Each layer's first weight named `kernel` of rank ≥ 2, in model order. */
function kernelsOf(map: LayerMap): { layer: string; variable: tf.Variable }[] {
  const out: { layer: string; variable: tf.Variable }[] = [];
  const seen = new Set<string>();
  for (const [name, loc] of [...map].sort((a, b) => a[1].layerIndex - b[1].layerIndex)) {
    if (loc.weight !== 'kernel' || seen.has(loc.layer)) continue;
    const v = tf.engine().registeredVariables[name];
    if (v === undefined || v.rank < 2 || v.size === 0) continue;
    seen.add(loc.layer);
    out.push({ layer: loc.layer, variable: v });
  }
  return out;
}

/** The sums each kernel's facts are computed from, on the device: [Σw, Σw²] per kernel, one tensor. */
export function kernelFactsOnDevice(map: LayerMap): { tensor: tf.Tensor1D; decode(values: ArrayLike<number>, offset?: number): Map<string, KernelFacts> } {
  const kernels = kernelsOf(map);
  const tensor = tf.tidy(() =>
    kernels.length === 0
      ? (tf.zeros([0]) as tf.Tensor1D)
      : (tf.concat(kernels.map(({ variable }) => {
          const w = tf.cast(variable, 'float32');
          return tf.stack([tf.sum(w), tf.sum(tf.square(w))]);
        })) as tf.Tensor1D),
  );
  return {
    tensor,
    decode(values, offset = 0) {
      const facts = new Map<string, KernelFacts>();
      kernels.forEach(({ layer, variable }, i) => {
        const n = variable.size;
        facts.set(layer, {
          size: n,
          fanIn: fanInOf(variable.shape),
          mean: values[offset + 2 * i]! / n,
          rms: Math.sqrt(values[offset + 2 * i + 1]! / n),
        });
      });
      return facts;
    },
  };
}

/**
 * Each layer's kernel summarized (size, fan-in, mean, RMS), read once and asynchronously — `guard` calls it when it
 * learns the model, before the first update, so the initialization rules judge the weights the run started from. One
 * readback of two numbers per kernel, once per run.
 */
export async function measureKernels(map: LayerMap): Promise<Map<string, KernelFacts>> {
  const { tensor, decode } = kernelFactsOnDevice(map);
  try {
    return decode(await tensor.data());
  } finally {
    tensor.dispose();
  }
}

/**
 * The same facts read in place, synchronously, on a backend that keeps tensors in host memory (cpu, wasm, tfjs-node):
 * one pass over each kernel's buffer, no kernel launched. Undefined on device backends (WebGL, WebGPU): use
 * `measureKernels` there. `guard` uses this where it can, so that even a loop that never yields sees the facts at step 0.
 */
export function measureKernelsNow(map: LayerMap): Map<string, KernelFacts> | undefined {
  const view = hostViewOf();
  if (!view) return undefined;
  const facts = new Map<string, KernelFacts>();
  for (const { layer, variable } of kernelsOf(map)) {
    const a = view(variable);
    if (!a) return undefined; // not float32 in host memory: the device path reads it
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      sum += x;
      sq += x * x;
    }
    facts.set(layer, { size: a.length, fanIn: fanInOf(variable.shape), mean: sum / a.length, rms: Math.sqrt(sq / a.length) });
  }
  return facts;
}
