import type { HeaderRecord, StepRecord } from '@gradguard/core/run-log/encode';

/** The config keys a run's clip bound may be recorded under (the CLI's flag, the demo's setting). */
const BOUND_KEYS = ['clipGlobalNorm', 'maxNorm'] as const;

/**
 * The global-norm clip bound of a run, or undefined when it had none.
 *
 * A bound in the config counts only when the run was really clipped by it: when `config.transform` is recorded it must
 * name a clipping transform (`clipByGlobalNorm(1)`, not `none`), since a comparison pair often records the same
 * `maxNorm` for the unguarded run. Otherwise the bound is read off the steps that were clipped (scale < 1): the
 * median of their post-clip norms, which for `clipByGlobalNorm` equals the bound.
 */
export function clipBoundOf(run: { readonly header: HeaderRecord; readonly steps: readonly StepRecord[] }): number | undefined {
  const c = run.header.config;
  const transform = c['transform'];
  const clipping = transform === undefined || (typeof transform === 'string' && /clip/i.test(transform));
  if (clipping) {
    for (const key of BOUND_KEYS) {
      const v = c[key];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    }
  }
  const clipped = run.steps.filter((s) => s.scale < 1 && Number.isFinite(s.postClipNorm)).map((s) => s.postClipNorm);
  if (clipped.length === 0) return undefined;
  clipped.sort((a, b) => a - b);
  return clipped[Math.floor(clipped.length / 2)];
}
