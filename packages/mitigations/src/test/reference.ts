/** Reference formulas in float64, written from the papers' definitions, independent of the tfjs implementation. */

export const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

/** Indices of each unit of a tensor of `shape` (row-major): rank ≤ 1 one unit; else one per index of the last axis. */
export function units(shape: readonly number[]): number[][] {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length <= 1) return [Array.from({ length: size }, (_, i) => i)];
  const last = shape.at(-1)!;
  return Array.from({ length: last }, (_, u) => Array.from({ length: size / last }, (_, k) => k * last + u));
}

export function agcReference(g: readonly number[], w: readonly number[], shape: readonly number[], clipping: number, eps: number): number[] {
  const out = [...g];
  for (const idx of units(shape)) {
    const gn = norm(idx.map((i) => g[i]!));
    const wn = Math.max(norm(idx.map((i) => w[i]!)), eps);
    const maxNorm = clipping * wn;
    if (gn > maxNorm) for (const i of idx) out[i] = (g[i]! * maxNorm) / Math.max(gn, 1e-6);
  }
  return out;
}

/** numpy.percentile with linear interpolation. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo]! + (r - lo) * (s[hi]! - s[lo]!);
}

/** ZClip as specified in z-clip.ts, step by step over a sequence of global norms; returns the scale of each step. */
export function zClipReference(norms: readonly number[], zThreshold: number, alpha: number, warmup: number): number[] {
  const scales: number[] = [];
  const buf: number[] = [];
  let mean = 0;
  let variance = 0;
  norms.forEach((g, t) => {
    if (t < warmup) {
      buf.push(g);
      scales.push(1);
      if (t === warmup - 1) {
        mean = buf.reduce((a, b) => a + b, 0) / buf.length;
        variance = buf.reduce((a, b) => a + (b - mean) ** 2, 0) / buf.length;
      }
      return;
    }
    const sigma = Math.sqrt(variance);
    const z = (g - mean) / sigma;
    const clipped = z > zThreshold ? mean + (zThreshold * zThreshold * sigma) / z : g;
    scales.push(z > zThreshold ? clipped / g : 1);
    mean = alpha * mean + (1 - alpha) * clipped;
    variance = alpha * variance + (1 - alpha) * (clipped - mean) ** 2;
  });
  return scales;
}

/** SPAM-style clipping over a sequence of gradients (one vector per step); returns the clipped gradients. */
export function spikeClipReference(steps: readonly (readonly number[])[], threshold: number, beta2: number): number[][] {
  let v = steps[0]!.map(() => 0);
  return steps.map((g, t) => {
    const vhat = v.map((x) => x / (1 - beta2 ** t));
    const c = g.map((x, i) => (t > 0 && x * x > threshold * vhat[i]! ? Math.sign(x) * Math.sqrt(threshold * vhat[i]!) : x));
    v = v.map((x, i) => beta2 * x + (1 - beta2) * c[i]! * c[i]!);
    return c;
  });
}
