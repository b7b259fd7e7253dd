import { ADVICE } from '../advice';
import type { Detector, Finding } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectLossDivergenceOptions {
  /** EMA smoothing of the loss. Default 0.9. */
  readonly alpha?: number;
  /** Steps before the loss is judged (the best is tracked from the first step). Default 20. */
  readonly warmup?: number;
  /** The smoothed loss above `factor` × the best smoothed loss so far (for positive losses) is a warning. Default 3. */
  readonly factor?: number;
  /** Window (raw losses) over which an upward trend is judged. Default 50. */
  readonly window?: number;
  /** The second half of the window's mean above the first half's by this fraction is a rising trend. Default 0.5. */
  readonly trendRise?: number;
  /**
   * ... and only if the loss has also given back at least this share of what it had gained (from its first smoothed
   * value down to its best): mini-batch noise around a converged loss of 0.05 easily reads +50 %, but gives back a
   * sliver of the 0.7 → 0.05 gained. A loss that never improved has given back everything. Default 0.25.
   */
  readonly undoneShare?: number;
}

/**
 * Loss divergence: a non-finite loss (critical); the smoothed loss far above its best so far (warning; critical
 * when it is also `factor`× above where it started, i.e. training undid itself); or the loss trending up over a
 * window while giving back a real share of what training had gained. For losses that may be negative, "`factor`×
 * above" reads as best + (factor − 1)·|best|.
 *
 * The best and the start are tracked from the first step, judged only after `warmup` steps: a too-high learning rate
 * (Adam at 1) throws the loss from 0.7 to 8 within a handful of steps, all of them inside any warm-up — a best first
 * taken after warm-up would be the diverged loss itself and nothing would ever look "above" it.
 */
export function detectLossDivergence(options: DetectLossDivergenceOptions = {}): Detector {
  const where = 'detectLossDivergence';
  checkOptions(where, options, ['alpha', 'warmup', 'factor', 'window', 'trendRise', 'undoneShare']);
  const alpha = checkNumber(where, 'alpha', options.alpha ?? 0.9, { min: 0, max: 0.9999 });
  const warmup = checkNumber(where, 'warmup', options.warmup ?? 20, { min: 1, integer: true });
  const factor = checkNumber(where, 'factor', options.factor ?? 3, { exclusiveMin: 1 });
  const window = checkNumber(where, 'window', options.window ?? 50, { min: 4, integer: true });
  const trendRise = checkNumber(where, 'trendRise', options.trendRise ?? 0.5, { exclusiveMin: 0 });
  const undoneShare = checkNumber(where, 'undoneShare', options.undoneShare ?? 0.25, { min: 0, max: 1 });
  let seen = 0;
  let ema = 0;
  let best = Number.POSITIVE_INFINITY;
  let bestStep = -1;
  let start = Number.NaN;
  const recent: number[] = [];
  const above = (x: number, ref: number): boolean => x - ref > (factor - 1) * Math.abs(ref);
  return {
    name: where,
    observe(s) {
      const loss = s.loss;
      if (loss === undefined) return [];
      if (!Number.isFinite(loss)) {
        return [
          {
            problem: 'loss-divergence',
            severity: 'critical',
            message: `The loss is ${loss} at step ${s.step}${seen > 0 ? ` (smoothed ${fmt(ema)} before)` : ''}.`,
            evidence: { loss, smoothed: seen > 0 ? ema : null, best: Number.isFinite(best) ? best : null },
            advice: ADVICE['loss-divergence'],
          },
        ];
      }
      ema = seen === 0 ? loss : alpha * ema + (1 - alpha) * loss;
      seen++;
      recent.push(loss);
      if (recent.length > window) recent.shift();
      if (seen === 1) start = ema;
      if (ema < best) {
        best = ema;
        bestStep = s.step;
      }
      if (seen < warmup) return [];
      const findings: Finding[] = [];
      if (above(ema, best)) {
        const critical = above(ema, start);
        findings.push({
          problem: 'loss-divergence',
          severity: critical ? 'critical' : 'warning',
          message:
            `The smoothed loss ${fmt(ema)} is far above its best ${fmt(best)} (step ${bestStep})` +
            (critical ? ` and above where it started (${fmt(start)}): training is undoing itself.` : '.'),
          evidence: { smoothed: ema, best, bestStep, start, factor },
          advice: ADVICE['loss-divergence'],
        });
      } else if (recent.length === window) {
        const h = Math.floor(window / 2);
        const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
        const early = mean(recent.slice(0, h));
        const late = mean(recent.slice(h));
        const givenBack = start > best ? (late - best) / (start - best) : 1;
        if (late - early > trendRise * Math.abs(early) && givenBack >= undoneShare) {
          findings.push({
            problem: 'loss-divergence',
            severity: 'warning',
            message:
              `The loss is trending up: the last ${window - h} steps average ${fmt(late)}, up from ${fmt(early)} ` +
              `over the ${h} before.`,
            evidence: { early, late, window, trendRise, givenBack: Math.min(givenBack, 1) },
            advice: ADVICE['loss-divergence'],
          });
        }
      }
      return findings;
    },
    reset() {
      seen = 0;
      ema = 0;
      best = Number.POSITIVE_INFINITY;
      bestStep = -1;
      start = Number.NaN;
      recent.length = 0;
    },
  };
}
