// The statistics contract every backend's kernel must pass: fixed gradients (NaN, ±Infinity, all-zero, empty, huge,
// tiny, mixed shapes) against a float64 reference computed here in plain JavaScript.
import type * as TF from '@tensorflow/tfjs';

/** Gradient cases as plain numbers: name -> [shape, values]. */
export const STATS_CONTRACT_CASES: Readonly<Record<string, readonly [readonly number[], readonly number[]]>> = {
  plain: [[2, 3], [0.5, -1.25, 3, 0, -0.001, 7]],
  withNaN: [[4], [1, Number.NaN, -2, 0]],
  withInf: [[3], [Number.NEGATIVE_INFINITY, 2, Number.POSITIVE_INFINITY]],
  zeros: [[2, 2], [0, 0, 0, 0]],
  empty: [[0], []],
  huge: [[3], [1e30, -2e30, 5e29]],
  tiny: [[3], [1e-30, -3e-38, 2e-30]],
  single: [[], [-4.5]],
  wide: [[1, 257], Array.from({ length: 257 }, (_, i) => Math.sin(i * 0.7) * 10 ** ((i % 9) - 4))],
};

export interface ReferenceStats {
  readonly norm: number;
  readonly maxAbs: number;
  readonly nonFinite: number;
  readonly zeros: number;
}

/** The float64 reference for one case, by the documented NaN/Infinity rule: NaN wins, then Infinity. */
export function referenceStats(values: readonly number[]): ReferenceStats {
  const f32 = Float32Array.from(values);
  let sq = 0;
  let mx = 0;
  let bad = 0;
  let zeros = 0;
  let nan = false;
  for (const v of f32) {
    if (Number.isNaN(v)) nan = true;
    if (!Number.isFinite(v)) bad++;
    if (v === 0) zeros++;
    sq += v * v;
    mx = Math.max(mx, Math.abs(v));
  }
  return { norm: nan ? Number.NaN : Math.sqrt(sq), maxAbs: nan ? Number.NaN : bad > 0 ? Number.POSITIVE_INFINITY : mx, nonFinite: bad, zeros };
}

/** Relative agreement of a with b: equal non-finite values, else |a − b| <= tol · |b|. */
export function agrees(a: number, b: number, tol = 1e-6): boolean {
  if (Number.isNaN(b)) return Number.isNaN(a);
  if (!Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol * Math.abs(b);
}

/** Makes the contract's gradient map on the active backend (the caller disposes it). */
export function contractGradients(tf: typeof TF): Record<string, TF.Tensor> {
  const out: Record<string, TF.Tensor> = {};
  for (const [name, [shape, values]] of Object.entries(STATS_CONTRACT_CASES)) out[name] = tf.tensor(values as number[], shape as number[], 'float32');
  return out;
}

/**
 * The mismatches of measured per-variable statistics against the reference, as readable lines (empty: the contract
 * holds). `overflowsToInfinity`: a float32 kernel's Σg² of the `huge` case is +Infinity (documented), accepted there.
 */
export function statsContractMismatches(
  variables: readonly { name: string; norm: number; maxAbs: number; nonFinite: number; zeros: number; size: number }[],
  options: { overflowsToInfinity?: boolean } = {},
): string[] {
  const out: string[] = [];
  for (const [name, [, values]] of Object.entries(STATS_CONTRACT_CASES)) {
    const v = variables.find((x) => x.name === name);
    if (!v) {
      out.push(`${name}: missing`);
      continue;
    }
    const ref = referenceStats(values);
    const norm = options.overflowsToInfinity && name === 'huge' ? Number.POSITIVE_INFINITY : ref.norm;
    if (!agrees(v.norm, norm)) out.push(`${name}: norm ${v.norm}, reference ${norm}`);
    if (!agrees(v.maxAbs, ref.maxAbs)) out.push(`${name}: maxAbs ${v.maxAbs}, reference ${ref.maxAbs}`);
    if (v.nonFinite !== ref.nonFinite) out.push(`${name}: nonFinite ${v.nonFinite}, reference ${ref.nonFinite}`);
    if (v.zeros !== ref.zeros) out.push(`${name}: zeros ${v.zeros}, reference ${ref.zeros}`);
    if (v.size !== values.length) out.push(`${name}: size ${v.size}, reference ${values.length}`);
  }
  return out;
}
