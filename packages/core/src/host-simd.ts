import { HOST_SIMD_WASM } from './host-simd-bytes';

/**
 * The host kernel's statistics pass in WebAssembly SIMD (host-simd.wat, embedded as host-simd-bytes.ts): Σx² in
 * float64, max|x| and the exact-zero count, eight float32 values per iteration. Buffers in the tfjs wasm backend's heap
 * are read in place by an instance that imports that heap; any other Float32Array (the cpu backend's arrays) is first
 * copied into a memory of our own, 64 KiB at a time (a memcpy, far cheaper than the JavaScript loop it replaces). Everything here is an
 * optimisation: where WebAssembly, SIMD or the heap import is missing or fails, the functions answer `false` /
 * `undefined` and the caller runs its JavaScript loops.
 */
export interface HostSimd {
  /** Σx², max|x| (NaN when an entry is NaN) and the count of ±0 of `a` into `out[0..2]`; false: not run. */
  stats(a: Float32Array, out: Float64Array): boolean;
  /** Σx² of `a`, or undefined when not run. */
  sumSquares(a: Float32Array): number | undefined;
  /** Whether views into the heap given to `hostSimd` are read in place (false: copied like any other array). */
  readonly inPlace: boolean;
}

interface Exports {
  stats(p: number, n: number): number;
  sumSquares(p: number, n: number): number;
  max(): number;
  zeros(): number;
}

/**
 * Below these sizes the JavaScript loop wins: a pass costs about 90 ns of calls and checks whatever its length, and a
 * copy more (measured in Node 20, x64: break-even near 40 entries in place, 64 copied).
 */
const MIN_IN_PLACE = 40;
const MIN_COPIED = 64;

let compiled: WebAssembly.Module | null | undefined;
let enabled = true;

/** The compiled module, once per process; null where WebAssembly or its SIMD is unavailable. */
function simdModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
    const text = atob(HOST_SIMD_WASM);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    // validate() is false where the engine lacks SIMD: no exception to pay for, no module.
    if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

function instantiate(memory: WebAssembly.Memory): Exports | null {
  const mod = simdModule();
  if (!mod) return null;
  try {
    // A shared (threaded-build) heap does not link to the non-shared import: LinkError, then the copy path.
    return new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Exports;
  } catch {
    return null;
  }
}

/** One instance per imported heap (the tfjs wasm backend's memory); null where it does not link. */
const onHeap = new WeakMap<WebAssembly.Memory, Exports | null>();

/** Entries copied at a time: one 64 KiB page, the whole of our own memory (and warm in cache when the pass reads it). */
const CHUNK = 16384;

/** The instance over our own one-page memory, for copies, and a view of that memory. */
let own: { readonly ex: Exports; readonly view: Float32Array } | null | undefined;

function ownInstance(): { readonly ex: Exports; readonly view: Float32Array } | null {
  if (own === undefined) {
    own = null;
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
      const ex = instantiate(memory);
      if (ex) own = { ex, view: new Float32Array(memory.buffer) };
    } catch {
      own = null;
    }
  }
  return own;
}

/** Copies the chunk of `a` that starts at `i` to the start of our own memory; returns its length. */
function copyChunk(copy: { readonly view: Float32Array }, a: Float32Array, i: number): number {
  const k = Math.min(CHUNK, a.length - i);
  copy.view.set(k === a.length ? a : a.subarray(i, i + k));
  return k;
}

/**
 * The SIMD pass for buffers that are views into `heap` (read in place) or anything else (copied, a page at a time), or
 * undefined where it cannot run at all (no WebAssembly SIMD, or turned off with `useHostSimd(false)`).
 */
export function hostSimd(heap: WebAssembly.Memory | undefined): HostSimd | undefined {
  if (!enabled || !simdModule()) return undefined;
  let heapEx: Exports | null = null;
  if (heap) {
    let ex = onHeap.get(heap);
    if (ex === undefined) onHeap.set(heap, (ex = instantiate(heap)));
    heapEx = ex;
  }
  const copy = ownInstance();
  // Memory.prototype.buffer is a call into the engine (tens of ns): compare with the buffer seen last, and look again
  // only when that differs (the heap grew since, and its old buffer was detached).
  let heapBuffer = heapEx ? heap!.buffer : undefined;
  const inHeap = (a: Float32Array): boolean => {
    if (!heapEx) return false;
    const b = a.buffer;
    if (b !== heapBuffer && heapBuffer!.byteLength === 0) heapBuffer = heap!.buffer;
    return b === heapBuffer;
  };
  return {
    stats(a, out) {
      const n = a.length;
      if (n < MIN_IN_PLACE) return false;
      if (inHeap(a)) {
        out[0] = heapEx!.stats(a.byteOffset, n);
        out[1] = heapEx!.max();
        out[2] = heapEx!.zeros();
        return true;
      }
      if (n < MIN_COPIED || !copy) return false;
      const { ex } = copy;
      let sq = 0;
      let max = 0;
      let zeros = 0;
      for (let i = 0; i < n; i += CHUNK) {
        const k = copyChunk(copy, a, i);
        sq += ex.stats(0, k);
        max = Math.max(max, ex.max()); // Math.max keeps a NaN, as the pass does
        zeros += ex.zeros();
      }
      out[0] = sq;
      out[1] = max;
      out[2] = zeros;
      return true;
    },
    sumSquares(a) {
      const n = a.length;
      if (n < MIN_IN_PLACE) return undefined;
      if (inHeap(a)) return heapEx!.sumSquares(a.byteOffset, n);
      if (n < MIN_COPIED || !copy) return undefined;
      let sq = 0;
      for (let i = 0; i < n; i += CHUNK) sq += copy.ex.sumSquares(0, copyChunk(copy, a, i));
      return sq;
    },
    inPlace: heapEx !== null,
  };
}

/** Turns the SIMD pass on or off for this process (tests and benchmarks compare it with the JavaScript loops). */
export function useHostSimd(on: boolean): void {
  enabled = on;
}
