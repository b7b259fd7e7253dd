/**
 * Counts readbacks by wrapping the engine's and the active backend's read methods (restored by the returned `stop`).
 *
 * - `blocking`: the engine's `readSync` — every `dataSync()`, `arraySync()` or `bufferSync()` anyone issues. On a device
 *   backend each one is a pipeline stall; the target is 0 per step.
 * - `async`: the engine's `read` — every `await t.data()`.
 * - `backendSync`: the backend's own `readSync` outside its `read` — also counts kernels that read their inputs on the
 *   host (the cpu backend does for a few ops), so it is ≥ `blocking` and says what the backend does, not the code.
 */
import * as tf from '@tensorflow/tfjs';

export interface ReadbackCounts {
  blocking: number;
  async: number;
  backendSync: number;
}

interface Readable {
  readSync(dataId: unknown, ...rest: unknown[]): unknown;
  read(dataId: unknown, ...rest: unknown[]): Promise<unknown>;
}

export function countReadbacks(): { counts: ReadbackCounts; stop: () => void } {
  const counts: ReadbackCounts = { blocking: 0, async: 0, backendSync: 0 };
  const engine = tf.engine() as unknown as Readable;
  const backend = tf.backend() as unknown as Readable;
  const restore: (() => void)[] = [];
  const wrap = <K extends keyof Readable>(target: Readable, key: K, make: (original: Readable[K]) => Readable[K]): void => {
    const own = Object.prototype.hasOwnProperty.call(target, key);
    const original = target[key];
    target[key] = make(original.bind(target) as Readable[K]);
    restore.push(() => {
      if (own) target[key] = original;
      else delete (target as Partial<Readable>)[key];
    });
  };
  let inBackendRead = 0;
  wrap(engine, 'readSync', (f) => (dataId, ...rest) => {
    counts.blocking++;
    return f(dataId, ...rest);
  });
  wrap(engine, 'read', (f) => (dataId, ...rest) => {
    counts.async++;
    return f(dataId, ...rest);
  });
  // cpu's and wasm's `read` is `async read(id) { return this.readSync(id); }`: the synchronous part runs inside the call.
  wrap(backend, 'read', (f) => (dataId, ...rest) => {
    inBackendRead++;
    try {
      return f(dataId, ...rest);
    } finally {
      inBackendRead--;
    }
  });
  wrap(backend, 'readSync', (f) => (dataId, ...rest) => {
    if (inBackendRead === 0) counts.backendSync++;
    return f(dataId, ...rest);
  });
  return {
    counts,
    stop: () => {
      for (const r of restore.reverse()) r();
    },
  };
}
