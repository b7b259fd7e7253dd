import { ADVICE } from '../advice';
import type { Detector } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectVanishingGradientOptions {
  /** Per-layer gradient norm below which the layer counts as starved. Default 1e-7. */
  readonly floor?: number;
  /** Consecutive steps below the floor before it is reported. Default 10. */
  readonly patience?: number;
  /**
   * When every layer is below the floor and the loss is at or below this, the run has converged rather than
   * vanished: stay silent. Default 1e-6.
   */
  readonly convergedLoss?: number;
}

/**
 * Absolute vanishing: a layer whose gradient norm stays below a floor for `patience` steps learns nothing. Reports the
 * layer nearest the input among those starved (where vanishing gradients bite first), with its norm and streak.
 * A model whose loss is already ~0 is converged, not starved.
 */
export function detectVanishingGradient(options: DetectVanishingGradientOptions = {}): Detector {
  const where = 'detectVanishingGradient';
  checkOptions(where, options, ['floor', 'patience', 'convergedLoss']);
  const floor = checkNumber(where, 'floor', options.floor ?? 1e-7, { exclusiveMin: 0 });
  const patience = checkNumber(where, 'patience', options.patience ?? 10, { min: 1, integer: true });
  const convergedLoss = checkNumber(where, 'convergedLoss', options.convergedLoss ?? 1e-6, { min: 0 });
  const streaks = new Map<string, { since: number; count: number }>();
  return {
    name: where,
    observe(s) {
      const layers = s.layers.filter((l) => l.size > 0 && Number.isFinite(l.norm));
      const allLow = layers.length > 0 && layers.every((l) => l.norm < floor);
      const converged = allLow && s.loss !== undefined && Number.isFinite(s.loss) && Math.abs(s.loss) <= convergedLoss;
      for (const l of layers) {
        if (l.norm < floor && !converged) {
          const st = streaks.get(l.layer);
          if (st) st.count++;
          else streaks.set(l.layer, { since: s.step, count: 1 });
        } else {
          streaks.delete(l.layer);
        }
      }
      const starved = layers.filter((l) => (streaks.get(l.layer)?.count ?? 0) >= patience);
      const first = starved[0];
      if (!first) return [];
      const st = streaks.get(first.layer)!;
      return [
        {
          problem: 'vanishing-gradient',
          severity: 'warning',
          layer: first.layer,
          message:
            `Layer "${first.layer}" has had a gradient norm below ${floor} for ${st.count} steps (since step ` +
            `${st.since}; now ${fmt(first.norm)})` +
            (starved.length > 1 ? `, as have ${starved.length - 1} other layer(s)` : '') +
            ': it no longer learns.',
          evidence: { layerNorm: first.norm, floor, streak: st.count, since: st.since, layersStarved: starved.length },
          advice: ADVICE['vanishing-gradient'],
        },
      ];
    },
    reset() {
      streaks.clear();
    },
  };
}
