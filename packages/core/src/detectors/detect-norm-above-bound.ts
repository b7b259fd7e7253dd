import { adviceFor, wasClipped } from '../advice';
import type { Detector, Finding } from '../detector';
import type { LayerStatistics } from '../run-log/statistics';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import { type ExplosionAttribution, createLayerTracker, describeAttribution } from './layer-attribution';
import { createLossTrend } from './loss-trend';

export interface DetectNormAboveBoundOptions {
  /** Global gradient norm considered too large. Default 1.0, the usual clipping threshold. */
  readonly bound?: number;
  /** Consecutive steps above `bound` before it is reported. Default 10. */
  readonly patience?: number;
  /**
   * A streak above `bound` is info (what `clipByGlobalNorm(bound)` would clip; healthy MSE training often sits there);
   * it is a warning once the norm has stayed above `warningFactor × bound` for `patience` steps. Default 10.
   */
  readonly warningFactor?: number;
  /** A norm above `criticalFactor × bound` is critical, and is reported at once without waiting for `patience`. Default 1000. */
  readonly criticalFactor?: number;
  /** Both levels need the norm at least this multiple of the run's first measured norm. Default 10. */
  readonly growthFactor?: number;
}

/**
 * Exploding gradients as users first notice them: the (pre-clip) global gradient norm stays above a bound step after
 * step. Blames the layer whose own norm crossed the bound earliest (else the largest), and names the layer whose norm
 * grew fastest, with the steps and factors as evidence.
 *
 * Large is not exploding: a model on unnormalized data can train for its whole run at a norm of 20 or 2,000. So both
 * the warning and the critical level also need growth — the norm at least `growthFactor` (10) × the run's first
 * measured norm — and the warning needs a loss that is not improving (its smoothed value not down ≥ 1 % over the
 * last 20 steps). Measured on healthy runs that trip the bare thresholds: 3-blob MLPs on raw inputs (centres in ±10,
 * std 2) sit at norms 20–25 from step 0 and reach 0.89–0.90 validation accuracy; an MLP regressing raw targets of
 * ~200 with Adam (loss 3e4 → 3e3, R² 0.99) climbs from 530 to 4,000 (×7.5). An explosion grows by orders of magnitude
 * within a few steps. A first measured norm already over `criticalFactor × bound` has no baseline and is critical.
 */
export function detectNormAboveBound(options: DetectNormAboveBoundOptions = {}): Detector {
  const where = 'detectNormAboveBound';
  checkOptions(where, options, ['bound', 'patience', 'warningFactor', 'criticalFactor', 'growthFactor']);
  const bound = checkNumber(where, 'bound', options.bound ?? 1, { exclusiveMin: 0 });
  const patience = checkNumber(where, 'patience', options.patience ?? 10, { min: 1, integer: true });
  const warningFactor = checkNumber(where, 'warningFactor', options.warningFactor ?? 10, { min: 1 });
  const criticalFactor = checkNumber(where, 'criticalFactor', options.criticalFactor ?? 1000, { min: warningFactor });
  const growthFactor = checkNumber(where, 'growthFactor', options.growthFactor ?? 10, { min: 1 });
  let firstNorm: number | undefined; // the run's first finite, positive norm: what "growth" is measured from
  let explosive = false; // this streak has reached criticalFactor × bound with growth
  let streak = 0;
  let warnStreak = 0;
  let streakStart = 0;
  let peak = 0;
  const tracker = createLayerTracker(Math.max(20, patience * 2));
  const trend = createLossTrend(20);
  return {
    name: where,
    observe(s) {
      tracker.observe(s);
      trend.observe(s.loss);
      const norm = s.preClipNorm;
      const baseline = firstNorm;
      if (firstNorm === undefined && Number.isFinite(norm) && norm > 0) firstNorm = norm;
      if (!(norm > bound)) {
        streak = 0;
        warnStreak = 0;
        peak = 0;
        explosive = false;
        return [];
      }
      const grown = baseline === undefined || norm >= growthFactor * baseline;
      if (streak === 0) streakStart = s.step;
      streak++;
      warnStreak = norm > warningFactor * bound ? warnStreak + 1 : 0;
      peak = Math.max(peak, norm);
      // A norm already criticalFactor × bound is an explosion now: waiting `patience` steps would let it hit NaN first.
      const immediate = norm > criticalFactor * bound && grown;
      if (immediate) explosive = true;
      if (streak < patience && !immediate) return [];
      const top = s.layers.reduce<(typeof s.layers)[number] | undefined>(
        (best, l) => (best === undefined || l.norm > best.norm ? l : best),
        undefined,
      );
      // A large but steady norm while the loss keeps falling is how that model trains (unnormalized inputs of ±15 give
      // norms of 20–25 in a 3-blob MLP that reaches 0.89 validation accuracy): warn only when the loss stalls.
      const improving = trend.improving() === true;
      const severity = explosive ? 'critical' : warnStreak >= patience && !improving && grown ? 'warning' : 'info';
      const clipped = wasClipped(s);
      // The layer, message and evidence are read by a monitor only when it reports (onset, escalation); on the other
      // steps of a streak — every step of a long one — they are never built: computed on first read, from this step's
      // numbers and this step's attribution window.
      const attributed = tracker.attributeLater(bound);
      const at = { norm, streak, streakStart, peak, postClipNorm: s.postClipNorm };
      let built: { layer: string | undefined; message: string; evidence: Finding['evidence'] } | undefined;
      const build = (): NonNullable<typeof built> => (built ??= describe(attributed(), top, clipped, improving, baseline, at));
      return [
        {
          problem: 'exploding-gradient',
          severity,
          get layer() {
            return build().layer;
          },
          get message() {
            return build().message;
          },
          get evidence() {
            return build().evidence;
          },
          // Clipping is already in place: point to the remedies of the cause instead of repeating it.
          advice: adviceFor('exploding-gradient', clipped),
        },
      ];
    },
    reset() {
      streak = 0;
      warnStreak = 0;
      peak = 0;
      explosive = false;
      firstNorm = undefined;
      tracker.reset();
      trend.reset();
    },
  };

  function describe(
    attribution: ExplosionAttribution,
    top: LayerStatistics | undefined,
    clipped: boolean,
    improving: boolean,
    baseline: number | undefined,
    { norm, streak, streakStart, peak, postClipNorm }: { norm: number; streak: number; streakStart: number; peak: number; postClipNorm: number },
  ): { layer: string | undefined; message: string; evidence: Finding['evidence'] } {
    const why = describeAttribution(attribution);
    return {
      layer: attribution.firstLayer ?? top?.layer,
      message:
        (streak < patience
          ? `The global gradient norm is ${fmt(norm)}, over ${fmt(criticalFactor)}× the bound ${bound}`
          : `The global gradient norm has stayed above ${bound} for ${streak} steps (since step ${streakStart}; ` +
            `now ${fmt(norm)}, peak ${fmt(peak)})`) +
        (top ? `; the largest is in layer "${top.layer}" (${fmt(top.norm)}).` : '.') +
        why.text +
        (clipped ? ` The update was clipped to a norm of ${fmt(postClipNorm)}, so the weights are protected; the cause remains.` : ''),
      evidence: {
        globalNorm: norm,
        bound,
        streak,
        streakStart,
        peak,
        ...(top ? { largestLayer: top.layer, layerNorm: top.norm } : {}),
        ...why.evidence,
        clipped,
        lossImproving: improving,
        growth: baseline === undefined ? null : norm / baseline,
      },
    };
  }
}
