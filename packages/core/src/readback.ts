import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors';
import { type HostView, hostViewOf } from './host-buffers';

/** What one step's readback returns: each participant's values under its own key. */
export type ReadValues = ReadonlyMap<string, Float32Array>;

/**
 * One step's readback, by name. Each participant of a step (gradient statistics, recurrent spectra, a transform's
 * probes, rollback's finite flags, the loss) registers its device values under its own key and later reads its own
 * values back under that key — no offsets shared across packages.
 *
 * - `device` (WebGL, WebGPU): the registered tensors are flattened and concatenated into one tensor, read with one
 *   asynchronous `data()`, and split by key: one readback per measured step, and the step never waits for it.
 * - `host` (cpu, wasm, tfjs-node): the values are already in host memory and kernels ran synchronously, so each
 *   tensor is read in place (`hostViewOf`) right away, with no concatenation kernel.
 *
 * The readback owns what is registered: it disposes every tensor once read (or on `dispose`).
 */
export interface StepReadback {
  readonly kind: 'host' | 'device';
  /** Registers `tensor` (any shape; read as float32) under `key`. The readback takes ownership of it. */
  add(key: string, tensor: tf.Tensor): void;
  /** Registers values already known on the host under `key`. */
  set(key: string, values: ArrayLike<number>): void;
  /** Reads every registered value. Host readbacks resolve at once; call it once. */
  read(): Promise<ReadValues>;
  /** Host readbacks only: the values now, synchronously. */
  readSync(): ReadValues;
  /** Disposes what was registered and not read. */
  dispose(): void;
}

/**
 * A readback for one step on the active backend. `kind` forces a mode (for tests and comparisons); by default it is
 * `host` where `hostViewOf` can read the active backend's buffers, `device` elsewhere.
 */
export function createReadback(kind?: 'host' | 'device'): StepReadback {
  const view = kind === 'device' ? undefined : hostViewOf();
  if (kind === 'host' && view === undefined) {
    throw new InvalidArgumentError(
      `createReadback: the ${tf.getBackend()} backend does not keep tensors in host memory.`,
      "Use kind 'device' (or leave kind out) on WebGL and WebGPU.",
    );
  }
  return view ? hostReadback(view) : deviceReadback();
}

function checkKey(seen: ReadonlyMap<string, unknown>, key: string): void {
  if (seen.has(key)) throw new InvalidArgumentError(`StepReadback: the key "${key}" is registered twice in one step.`, 'Give each participant its own key.');
}

function hostReadback(view: HostView): StepReadback {
  const tensors = new Map<string, tf.Tensor>();
  const known = new Map<string, Float32Array>();
  const readback: StepReadback = {
    kind: 'host',
    add(key, tensor) {
      checkKey(tensors, key);
      checkKey(known, key);
      tensors.set(key, tf.keep(tensor));
    },
    set(key, values) {
      checkKey(tensors, key);
      checkKey(known, key);
      known.set(key, Float32Array.from(values));
    },
    readSync() {
      const out = new Map(known);
      for (const [key, t] of tensors) {
        const f = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
        // Copy: the view may be a wasm heap window that the next allocation moves, and `t` is disposed right after.
        // eslint-disable-next-line no-restricted-properties -- host backend: kernels ran synchronously, nothing stalls
        out.set(key, Float32Array.from(view(f) ?? (f.dataSync() as Float32Array)));
        if (f !== t) f.dispose();
        t.dispose();
      }
      tensors.clear();
      known.clear();
      return out;
    },
    read: () => Promise.resolve(readback.readSync()),
    dispose() {
      for (const t of tensors.values()) t.dispose();
      tensors.clear();
      known.clear();
    },
  };
  return readback;
}

function deviceReadback(): StepReadback {
  const tensors = new Map<string, tf.Tensor>();
  const known = new Map<string, Float32Array>();
  return {
    kind: 'device',
    add(key, tensor) {
      checkKey(tensors, key);
      checkKey(known, key);
      tensors.set(key, tf.keep(tensor));
    },
    set(key, values) {
      checkKey(tensors, key);
      checkKey(known, key);
      known.set(key, Float32Array.from(values));
    },
    readSync() {
      throw new InvalidArgumentError('StepReadback: readSync() is for host readbacks only.', 'Await read() on a device backend.');
    },
    async read() {
      const entries = [...tensors];
      tensors.clear();
      const out = new Map(known);
      known.clear();
      if (entries.length === 0) return out;
      // One concatenation, one asynchronous read. tf.keep: model.fit runs the step inside tf.tidy, and the read ends later.
      const all = tf.keep(
        tf.tidy(() => {
          const flat = entries.map(([, t]) => tf.reshape(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), [-1]));
          return flat.length === 1 ? tf.clone(flat[0]!) : tf.concat(flat);
        }),
      );
      const sizes = entries.map(([, t]) => t.size);
      for (const [, t] of entries) t.dispose();
      let values: Float32Array;
      try {
        values = (await all.data()) as Float32Array;
      } finally {
        all.dispose();
      }
      let o = 0;
      entries.forEach(([key], i) => {
        out.set(key, values.subarray(o, o + sizes[i]!));
        o += sizes[i]!;
      });
      return out;
    },
    dispose() {
      for (const t of tensors.values()) t.dispose();
      tensors.clear();
      known.clear();
    },
  };
}
