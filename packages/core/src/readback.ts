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
 * The readback owns what is registered with `add`: it disposes those tensors once read (or on `dispose`); tensors
 * registered with `borrow` stay their owner's.
 */
export interface StepReadback {
  readonly kind: 'host' | 'device';
  /** Registers `tensor` (any shape; read as float32) under `key`. The readback takes ownership of it (and disposes it if the key is refused). */
  add(key: string, tensor: tf.Tensor): void;
  /**
   * Registers `tensor` under `key` without taking it over (a loss the caller returns, a state's probe): the caller
   * keeps it alive until `read()` or `readSync()` has been called, which copies or concatenates it at once.
   */
  borrow(key: string, tensor: tf.Tensor): void;
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

/** The registered values of one step: device tensors (owned) and host values, each under a key of its own. */
function registry() {
  const tensors = new Map<string, tf.Tensor>();
  const owned = new Set<tf.Tensor>();
  const known = new Map<string, Float32Array>();
  const fresh = (key: string): void => {
    if (tensors.has(key) || known.has(key)) {
      throw new InvalidArgumentError(`StepReadback: the key "${key}" is registered twice in one step.`, 'Give each participant its own key.');
    }
  };
  const release = (): void => {
    for (const t of owned) t.dispose();
    owned.clear();
    tensors.clear();
    known.clear();
  };
  return {
    tensors,
    known,
    add(key: string, tensor: tf.Tensor): void {
      try {
        fresh(key);
      } catch (e) {
        tensor.dispose(); // ownership was handed over: a refused tensor is freed, not leaked
        throw e;
      }
      tensors.set(key, tf.keep(tensor));
      owned.add(tensor);
    },
    borrow(key: string, tensor: tf.Tensor): void {
      fresh(key);
      tensors.set(key, tensor);
    },
    set(key: string, values: ArrayLike<number>): void {
      fresh(key);
      known.set(key, Float32Array.from(values));
    },
    /** Frees the owned tensors and forgets everything registered. */
    release,
    dispose: release,
  };
}

function hostReadback(view: HostView): StepReadback {
  const r = registry();
  const readback: StepReadback = {
    kind: 'host',
    add: r.add,
    borrow: r.borrow,
    set: r.set,
    readSync() {
      const out = new Map(r.known);
      for (const [key, t] of r.tensors) {
        const f = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
        // Copy: the view may be a wasm heap window that the next allocation moves, and `t` is disposed right after.
        // eslint-disable-next-line no-restricted-properties -- host backend: kernels ran synchronously, nothing stalls
        out.set(key, Float32Array.from(view(f) ?? (f.dataSync() as Float32Array)));
        if (f !== t) f.dispose();
      }
      r.release();
      return out;
    },
    read: () => Promise.resolve(readback.readSync()),
    dispose: r.dispose,
  };
  return readback;
}

function deviceReadback(): StepReadback {
  const r = registry();
  return {
    kind: 'device',
    add: r.add,
    borrow: r.borrow,
    set: r.set,
    readSync() {
      throw new InvalidArgumentError('StepReadback: readSync() is for host readbacks only.', 'Await read() on a device backend.');
    },
    async read() {
      const entries = [...r.tensors];
      const out = new Map(r.known);
      if (entries.length === 0) {
        r.release();
        return out;
      }
      // One concatenation, one asynchronous read. tf.keep: model.fit runs the step inside tf.tidy, and the read ends later.
      const all = tf.keep(
        tf.tidy(() => {
          const flat = entries.map(([, t]) => tf.reshape(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), [-1]));
          return flat.length === 1 ? tf.clone(flat[0]!) : tf.concat(flat);
        }),
      );
      const sizes = entries.map(([, t]) => t.size);
      r.release(); // the owned tensors; borrowed ones stay with their owner, already copied into `all`
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
    dispose: r.dispose,
  };
}
