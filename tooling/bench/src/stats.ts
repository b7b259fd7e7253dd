/** The median (mean of the two middle values for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A distribution-free confidence interval for the median of `values`: the order statistics x₍ⱼ₎ and x₍ₙ₋ⱼ₊₁₎ with
 * j the largest index such that P(Binomial(n, ½) < j) ≤ (1 − level)/2, so the interval holds the true median with
 * probability `coverage` ≥ level whatever the distribution (no normality assumed: a shared VM's step times are not
 * normal). With 7 values that is min–max (98.4 %); with 15, the 4th to the 12th (96.5 %). NaN bounds for no values.
 */
export function medianInterval(values: readonly number[], level = 0.95): { low: number; high: number; coverage: number } {
  const n = values.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN, coverage: 0 };
  const s = [...values].sort((a, b) => a - b);
  // P(B ≤ k) for B ~ Binomial(n, ½), accumulated.
  const tail: number[] = [];
  let c = 1; // C(n, k)
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) c = (c * (n - k + 1)) / k;
    acc += c / 2 ** n;
    tail.push(acc);
  }
  // The largest j (1-based, at most the middle) with P(B ≤ j − 1) ≤ (1 − level)/2; j = 1 (min–max) when none is.
  let j = 1;
  for (let k = 2; k <= Math.ceil(n / 2); k++) if (tail[k - 1]! <= (1 - level) / 2) j = k;
  const coverage = 1 - 2 * tail[j - 1]!;
  return { low: s[j - 1]!, high: s[n - j]!, coverage };
}
