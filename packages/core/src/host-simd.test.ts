import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PATH, bytesModule, compileHostSimd } from '../scripts/build-host-simd';
import { gradientStats } from './gradient-stats';
import { hostHeapOf, hostViewOf } from './host-buffers';
import { HOST_SIMD_WASM } from './host-simd-bytes';
import { hostSimd, useHostSimd } from './host-simd';

afterEach(() => useHostSimd(true));

interface Pass {
  readonly sq: number;
  readonly max: number;
  readonly zeros: number;
}

/** The float64 reference over float32 values: Σx², max|x| (NaN as soon as one entry is NaN), count of ±0. */
function reference(a: Float32Array): Pass {
  let sq = 0;
  let max = 0;
  let zeros = 0;
  for (const x of a) {
    sq += x * x;
    max = Math.max(max, Math.abs(x));
    if (x === 0) zeros++;
  }
  return { sq, max, zeros };
}

/** Σx² to 1e-13 relative (the SIMD pass adds in another order), the rest exactly; NaN and ±Infinity exactly. */
function expectPass(got: Pass, a: Float32Array): void {
  const ref = reference(a);
  const where = `[${Array.from(a).join(', ')}]`;
  if (Number.isFinite(ref.sq)) expect(Math.abs(got.sq - ref.sq), where).toBeLessThanOrEqual(1e-13 * ref.sq);
  else expect(got.sq, where).toBe(ref.sq);
  expect(got.max, where).toBe(ref.max);
  expect(got.zeros, where).toBe(ref.zeros);
}

/** Deterministic values in ±[1e-3, 1e2), some exactly zero. */
function filler(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (next() < 0.3 ? 0 : (next() < 0.5 ? -1 : 1) * 10 ** (next() * 5 - 3)));
}

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e30, -3e38, 1e-30, 1e-40, 1.4e-45];

/** Arrays of length n: filler, all zero, all -0, and each special at each position. */
function cases(n: number): Float32Array[] {
  const out = [filler(n, n + 1), new Float32Array(n), new Float32Array(n).fill(-0), new Float32Array(n).fill(1e30)];
  for (const s of SPECIALS) {
    for (let pos = 0; pos < n; pos++) {
      const a = filler(n, n * 31 + pos);
      a[pos] = s;
      out.push(a);
    }
  }
  // NaN and ±Infinity together, in both orders: NaN wins the max, Σx² is NaN.
  if (n >= 2) {
    const a = filler(n, 7);
    a[0] = Number.POSITIVE_INFINITY;
    a[n - 1] = Number.NaN;
    out.push(a, a.slice().reverse());
  }
  return out;
}

describe('the embedded SIMD module', () => {
  it('is host-simd.wat compiled: host-simd-bytes.ts is exactly what scripts/build-host-simd.ts writes', async () => {
    const bytes = await compileHostSimd();
    expect(Buffer.from(HOST_SIMD_WASM, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(readFileSync(BYTES_PATH, 'utf8')).toBe(bytesModule(bytes));
  });

  it('computes Σx², max|x| and the zero count of lengths 0..17 (every tail) at every 4-byte alignment', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const ex = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HOST_SIMD_WASM, 'base64')), { env: { memory } }).exports as unknown as {
      stats(p: number, n: number): number;
      sumSquares(p: number, n: number): number;
      max(): number;
      zeros(): number;
    };
    let checked = 0;
    for (let n = 0; n <= 17; n++) {
      for (const a of cases(n)) {
        for (const offset of [0, 4, 8, 12]) {
          // Garbage around the values: the pass must read exactly n of them.
          const heap = new Float32Array(memory.buffer, 0, 64).fill(Number.NaN);
          heap.set(a, 16 + offset / 4);
          const p = 64 + offset;
          expectPass({ sq: ex.stats(p, n), max: ex.max(), zeros: ex.zeros() }, a);
          const ref = reference(a).sq;
          expect(ex.sumSquares(p, n)).toBe(ex.stats(p, n)); // the same additions in the same order
          if (Number.isFinite(ref)) expect(Math.abs(ex.sumSquares(p, n) - ref)).toBeLessThanOrEqual(1e-13 * ref);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('keeps huge and tiny squares in float64: (1e30)², (3e38)² and (1e-40)² neither overflow nor vanish', () => {
    const simd = hostSimd(undefined)!;
    const out = new Float64Array(3);
    const huge = new Float32Array(100).fill(1e30);
    huge[99] = -3e38;
    expect(simd.stats(huge, out)).toBe(true);
    const f = Math.fround(1e30);
    const g = Math.fround(3e38);
    expect(out[0]! / (99 * f * f + g * g)).toBeCloseTo(1, 12);
    expect(out[1]).toBe(g);
    const tiny = new Float32Array(100).fill(1e-40); // float32 subnormals
    expect(simd.stats(tiny, out)).toBe(true);
    const t = Math.fround(1e-40);
    expect(out[0]! / (100 * t * t)).toBeCloseTo(1, 12);
    expect(out[0]).toBeGreaterThan(0);
    expect(out[1]).toBe(t);
    expect(out[2]).toBe(0);
  });
});

describe('hostSimd', () => {
  const memory = new WebAssembly.Memory({ initial: 8 });
  const out = new Float64Array(3);
  const run = (simd: ReturnType<typeof hostSimd>, a: Float32Array): Pass | undefined =>
    simd!.stats(a, out) ? { sq: out[0]!, max: out[1]!, zeros: out[2]! } : undefined;

  it('reads views of the heap it is given in place, and copies any other array, with the same numbers', () => {
    const simd = hostSimd(memory)!;
    expect(simd.inPlace).toBe(true);
    for (let n = 64; n <= 81; n++) {
      for (const a of cases(n).filter((_, k) => k % 5 === 0 || k < 4)) {
        const view = new Float32Array(memory.buffer, 4 * 3, n); // a 12-byte offset, as tfjs views can have
        view.set(a);
        expectPass(run(simd, view)!, a);
        expectPass(run(simd, a)!, a);
        expect(simd.sumSquares(view)).toBe(out[0]); // the same page, the same order
      }
    }
  });

  it('copies large arrays a page at a time: a NaN, an Infinity or a max in the last chunk is still seen', () => {
    const simd = hostSimd(undefined)!;
    const n = 16384 * 2 + 5;
    for (const [pos, s] of [[n - 1, Number.NaN], [16384 + 3, Number.POSITIVE_INFINITY], [n - 3, 1e30], [16384, 0]] as const) {
      const a = filler(n, pos);
      a[pos] = s;
      expectPass(run(simd, a)!, a);
      const ref = reference(a).sq;
      const ss = simd.sumSquares(a)!;
      if (Number.isFinite(ref)) expect(Math.abs(ss - ref)).toBeLessThanOrEqual(1e-13 * ref);
      else expect(ss).toBe(ref);
    }
    // In place on a heap, the same array in one call.
    const big = new Float32Array(memory.buffer, 0, n);
    big.set(filler(n, 3));
    expectPass(run(hostSimd(memory), big)!, big);
  });

  it('leaves short arrays to the JavaScript loop, and follows the heap when it grows', () => {
    const simd = hostSimd(memory)!;
    expect(simd.stats(new Float32Array(memory.buffer, 0, 39), out)).toBe(false); // in place from 40 entries
    expect(simd.stats(new Float32Array(63), out)).toBe(false); // copied from 64
    expect(simd.sumSquares(new Float32Array(63))).toBeUndefined();
    expect(simd.stats(new Float32Array(memory.buffer, 0, 40), out)).toBe(true);
    memory.grow(1); // detaches the old buffer; new views see the new one
    const a = new Float32Array(memory.buffer, 8 * 65536 - 400, 200);
    a.set(filler(200, 9));
    expect(simd.stats(a, out)).toBe(true);
    expectPass({ sq: out[0]!, max: out[1]!, zeros: out[2]! }, a);
  });

  it('does not link to a shared heap (a threaded wasm backend): copies its views instead', () => {
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const simd = hostSimd(shared)!;
    expect(simd.inPlace).toBe(false);
    const a = new Float32Array(shared.buffer, 0, 100);
    a.set(filler(100, 5));
    expectPass(run(simd, a)!, a);
  });

  it('is off after useHostSimd(false)', () => {
    useHostSimd(false);
    expect(hostSimd(memory)).toBeUndefined();
    useHostSimd(true);
    expect(hostSimd(memory)).toBeDefined();
  });
});

/** Gradients with every kind of entry, big enough for the SIMD pass (and small ones it leaves to JavaScript). */
function gradientValues(): Record<string, [number[], Float32Array]> {
  const withNaN = filler(4096, 11);
  withNaN[4000] = Number.NaN;
  const withInf = filler(640, 12);
  withInf[3] = Number.NEGATIVE_INFINITY;
  withInf[639] = Number.POSITIVE_INFINITY;
  const huge = new Float32Array(100).fill(-1e30);
  huge[57] = 2e30;
  const tiny = filler(77, 13).map((x) => x * 1e-30);
  return {
    kernel: [[64, 64], filler(4096, 1)],
    bias: [[64], filler(64, 2)],
    withNaN: [[64, 64], withNaN],
    withInf: [[64, 10], withInf],
    zeros: [[8, 8], new Float32Array(64)],
    negZeros: [[50], new Float32Array(50).fill(-0)],
    huge: [[100], huge],
    tiny: [[77], tiny],
    small: [[17], filler(17, 14)],
    empty: [[0, 3], new Float32Array(0)],
  };
}

describe.each(['wasm', 'cpu'])('gradientStats on %s, SIMD pass against the JavaScript loops', (backend) => {
  it('gives the same statistics, counts exactly, norms to 1e-13, and leaks no tensor', async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const values = gradientValues();
    const grads: tf.NamedTensorMap = {};
    const weights: tf.NamedTensorMap = {};
    for (const [name, [shape, a]] of Object.entries(values)) {
      grads[name] = tf.tensor(a, shape, 'float32');
      weights[name] = tf.tensor(filler(a.length, a.length + 5), shape, 'float32');
    }
    if (backend === 'wasm') {
      // The wasm backend's gradients are views of the heap the SIMD instance imports: read in place.
      const heap = hostHeapOf('wasm');
      expect(heap).toBeInstanceOf(WebAssembly.Memory);
      expect(hostViewOf('wasm')!(grads.kernel!)!.buffer).toBe(heap!.buffer);
      expect(hostSimd(heap)!.inPlace).toBe(true);
    } else {
      expect(hostHeapOf('cpu')).toBeUndefined();
    }
    const simd = await expectNoLeak(() => gradientStats(grads, { kernel: 'host', weights }));
    useHostSimd(false);
    const js = await expectNoLeak(() => gradientStats(grads, { kernel: 'host', weights }));
    useHostSimd(true);
    const close = (a: number | undefined, b: number | undefined): void => {
      if (b === undefined || !Number.isFinite(b)) expect(a).toBe(b);
      else expect(Math.abs(a! - b)).toBeLessThanOrEqual(1e-13 * b);
    };
    for (const [k, v] of simd.variables.entries()) {
      const r = js.variables[k]!;
      expect({ ...v, norm: 0, weightNorm: 0 }).toEqual({ ...r, norm: 0, weightNorm: 0 });
      close(v.norm, r.norm);
      close(v.weightNorm, r.weightNorm);
    }
    const byName = new Map(simd.variables.map((v) => [v.name, v]));
    expect(byName.get('withNaN')).toMatchObject({ nonFinite: 1, maxAbs: Number.NaN });
    expect(byName.get('withNaN')!.norm).toBeNaN();
    expect(byName.get('withInf')).toMatchObject({ nonFinite: 2, maxAbs: Number.POSITIVE_INFINITY, norm: Number.POSITIVE_INFINITY });
    expect(byName.get('zeros')).toMatchObject({ zeros: 64, norm: 0, maxAbs: 0 });
    expect(byName.get('negZeros')).toMatchObject({ zeros: 50, norm: 0, maxAbs: 0 });
    const f = Math.fround(1e30);
    expect(byName.get('huge')!.norm / Math.sqrt(99 * f * f + 4 * f * f)).toBeCloseTo(1, 12);
    expect(byName.get('huge')!.maxAbs).toBe(Math.fround(2e30));
    expect(byName.get('tiny')!.norm).toBeGreaterThan(1e-33);
    close(simd.globalNorm, js.globalNorm);
    tf.dispose([...Object.values(grads), ...Object.values(weights)]);
  });
});
