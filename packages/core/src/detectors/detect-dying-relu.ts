import { ADVICE } from '../advice';
import type { Detector } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectDyingReluOptions {
  /** Fraction of a layer's gradient entries exactly zero at or above which its units are dead. Default 0.7 (AUTOTRAINER). */
  readonly zeroFraction?: number;
  /** Consecutive steps the fraction must hold. Default 10. */
  readonly patience?: number;
  /** Layers with fewer entries are ignored (a handful of zeros says little). Default 16. */
  readonly minSize?: number;
}

/**
 * Dying ReLU (AUTOTRAINER, Zhang et al. ICSE 2021): when at least 70 % of a layer's gradient entries are exactly zero,
 * its units have stopped passing gradient (a ReLU stuck at 0 has zero derivative) and no longer learn. Judged on
 * exact zeros, which `gradientStats` counts on the device; layers whose gradient is sparse by design (embeddings)
 * should be excluded by using a detector list without this rule.
 */
export function detectDyingRelu(options: DetectDyingReluOptions = {}): Detector {
  const where = 'detectDyingRelu';
  checkOptions(where, options, ['zeroFraction', 'patience', 'minSize']);
  const zeroFraction = checkNumber(where, 'zeroFraction', options.zeroFraction ?? 0.7, { exclusiveMin: 0, max: 1 });
  const patience = checkNumber(where, 'patience', options.patience ?? 10, { min: 1, integer: true });
  const minSize = checkNumber(where, 'minSize', options.minSize ?? 16, { min: 1, integer: true });
  const streaks = new Map<string, { since: number; count: number }>();
  return {
    name: where,
    observe(s) {
      let worst: { layer: string; fraction: number } | undefined;
      for (const l of s.layers) {
        const fraction = l.size > 0 ? l.zeros / l.size : 0;
        if (l.size >= minSize && fraction >= zeroFraction) {
          const st = streaks.get(l.layer);
          if (st) st.count++;
          else streaks.set(l.layer, { since: s.step, count: 1 });
          if (streaks.get(l.layer)!.count >= patience && (!worst || fraction > worst.fraction)) {
            worst = { layer: l.layer, fraction };
          }
        } else {
          streaks.delete(l.layer);
        }
      }
      if (!worst) return [];
      const st = streaks.get(worst.layer)!;
      const dead = [...streaks.values()].filter((x) => x.count >= patience).length;
      return [
        {
          problem: 'dying-relu',
          severity: 'warning',
          layer: worst.layer,
          message:
            `${fmt(worst.fraction * 100)} % of layer "${worst.layer}"'s gradient entries have been exactly zero for ` +
            `${st.count} steps (since step ${st.since})` +
            (dead > 1 ? `, as in ${dead - 1} other layer(s)` : '') +
            ': its units are dead and no longer learn.',
          evidence: { zeroFraction: worst.fraction, threshold: zeroFraction, streak: st.count, since: st.since, layersAffected: dead },
          advice: ADVICE['dying-relu'],
        },
      ];
    },
    reset() {
      streaks.clear();
    },
  };
}
