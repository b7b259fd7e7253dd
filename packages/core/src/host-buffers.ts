import * as tf from '@tensorflow/tfjs-core';

/**
 * Reads a float32 tensor's values where they already are, without a kernel, when the active backend keeps tensors in
 * host memory and runs kernels synchronously: `cpu` hands out the tensor's own backing array, `wasm` a view into its
 * heap (no copy), `tensorflow` (tfjs-node) a copy out of libtensorflow (a memcpy). Everything a step computed is
 * already there, so reading is not a pipeline stall. Returns undefined on device backends (WebGL, WebGPU), where the
 * data lives on the GPU and one asynchronous readback per step is the rule.
 *
 * A wasm heap view is valid until the next allocation on the heap: consume it at once, before calling any tfjs op.
 */
export type HostView = (t: tf.Tensor) => Float32Array | undefined;

interface CpuLike {
  readSync(dataId: object): unknown;
}
interface WasmLike {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): unknown;
}

/** The host view of the active backend, or undefined when its tensors do not live in host memory. */
export function hostViewOf(backendName: string = tf.getBackend()): HostView | undefined {
  const backend = tf.engine().findBackend(backendName) as unknown;
  if (backend == null) return undefined;
  if (backendName === 'wasm' && typeof (backend as WasmLike).typedArrayFromHeap === 'function') {
    const wasm = backend as WasmLike;
    return (t) => {
      if (t.dtype !== 'float32' || t.isDisposed) return undefined;
      const a = wasm.typedArrayFromHeap(t);
      return a instanceof Float32Array ? a : undefined;
    };
  }
  if ((backendName === 'cpu' || backendName === 'tensorflow') && typeof (backend as CpuLike).readSync === 'function') {
    const cpu = backend as CpuLike;
    return (t) => {
      if (t.dtype !== 'float32' || t.isDisposed) return undefined;
      const a = cpu.readSync(t.dataId);
      return a instanceof Float32Array ? a : undefined;
    };
  }
  return undefined;
}

interface WasmHeapLike {
  wasm?: { asm?: { memory?: unknown } };
}

/**
 * The WebAssembly memory that the `wasm` backend's tensors live in (its views' buffer), or undefined on other backends
 * and where the backend does not expose it. A module importing it reads the gradients in place (host-simd.ts).
 */
export function hostHeapOf(backendName: string = tf.getBackend()): WebAssembly.Memory | undefined {
  if (backendName !== 'wasm' || typeof WebAssembly !== 'object') return undefined;
  const memory = (tf.engine().findBackend(backendName) as WasmHeapLike | null)?.wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}
