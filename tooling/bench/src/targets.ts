/**
 * Issue 12's cost targets, judged from the harness's own numbers: a target is met when the whole 95 % interval of the
 * median ratio is at or under it, missed when the whole interval is above it, and undecided when the interval
 * straddles it — on a noisy machine "undecided" is the honest verdict, not a pass.
 */
import type { ConfigName } from './configs';
import type { BackendResult, ConfigResult } from './measure';

export interface Target {
  readonly model: string;
  readonly config: ConfigName;
  /** The ratio to bare the configuration must stay at or under. */
  readonly max: number;
}

/** Watch-only and skip+clip ceilings per model (issue 12), as ratios to a bare step. */
export const TARGETS: readonly Target[] = [
  { model: 'mlp-20x64', config: 'watch', max: 1.02 },
  { model: 'mlp-6x256', config: 'watch', max: 1.02 },
  { model: 'spirals', config: 'watch', max: 1.05 },
  { model: 'rnn-32x50', config: 'watch', max: 1.01 },
  { model: 'lstm-32x50', config: 'watch', max: 1.01 },
  { model: 'mlp-20x64', config: 'skip+clip', max: 1.04 },
  { model: 'spirals', config: 'skip+clip', max: 1.08 },
];

/** Watch-only must cost at most a fifth of what the naive reference costs above bare. */
export const NAIVE_FACTOR = 5;

export type Verdict = 'met' | 'missed' | 'undecided';

export interface TargetVerdict {
  readonly backend: string;
  readonly model: string;
  readonly what: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

function judge(low: number, high: number, max: number): Verdict {
  if (high <= max) return 'met';
  if (low > max) return 'missed';
  return 'undecided';
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;

/** Every target the results hold numbers for, in `TARGETS` order, then the naive comparison per model. */
export function judgeTargets(backends: readonly BackendResult[]): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const find = (b: BackendResult, model: string, config: ConfigName): ConfigResult | undefined =>
    b.models.find((m) => m.model === model)?.configs.find((c) => c.config === config);
  for (const b of backends) {
    for (const t of TARGETS) {
      const r = find(b, t.model, t.config);
      if (!r) continue;
      out.push({
        backend: b.backend,
        model: t.model,
        what: `${t.config} ≤ ${t.max.toFixed(2)}×`,
        verdict: judge(r.ratioLow, r.ratioHigh, t.max),
        detail: `${r.ratio.toFixed(3)}× (95 % interval ${r.ratioLow.toFixed(3)}–${r.ratioHigh.toFixed(3)})`,
      });
    }
    for (const m of b.models) {
      const watch = find(b, m.model, 'watch');
      const naive = find(b, m.model, 'naive');
      if (!watch || !naive) continue;
      // Overheads above bare; met when watch's worst case is within a fifth of naive's best case.
      const verdict: Verdict =
        watch.ratioHigh - 1 <= (naive.ratioLow - 1) / NAIVE_FACTOR ? 'met' : watch.ratioLow - 1 > (naive.ratioHigh - 1) / NAIVE_FACTOR ? 'missed' : 'undecided';
      out.push({
        backend: b.backend,
        model: m.model,
        what: `watch ≥ ${NAIVE_FACTOR}× cheaper than naive`,
        verdict,
        detail: `overhead ${pct(watch.ratio - 1)} vs naive ${pct(naive.ratio - 1)} (intervals ${pct(watch.ratioLow - 1)}…${pct(watch.ratioHigh - 1)} and ${pct(naive.ratioLow - 1)}…${pct(naive.ratioHigh - 1)})`,
      });
    }
  }
  return out;
}
