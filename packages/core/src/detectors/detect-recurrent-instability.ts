import { ADVICE } from '../advice';
import { type Detector, type Finding, SEVERITY_RANK } from '../detector';
import { checkNumber } from '../errors';
import { formatNumber as fmt } from '../format';
import type { RecurrentStatistics } from '../run-log/statistics';
import { explainRadius, isGated } from './recurrent-risk';

export interface DetectRecurrentInstabilityOptions {
  /** Spectral radius above which the recurrence amplifies. Default 1. */
  readonly maxRadius?: number;
  /** Slack above `maxRadius` before it counts (an orthogonal kernel of gain 1 measures 1 ± float error). Default 0.01. */
  readonly tolerance?: number;
  /** A layer's gradient norm (or a non-finite one) that, with the radius above the limit, makes it critical. Default 1000. */
  readonly criticalNorm?: number;
}

/**
 * Recurrent instability (Pascanu, Mikolov & Bengio 2013): a recurrent kernel with spectral radius r > 1 lets
 * gradients through T steps grow like r^T. Reads `recurrent` spectra from the statistics (measure them with
 * `gradientStats(grads, { model, recurrent: true, detailEvery: k })`; the last ones seen are kept between
 * measurements). A SimpleRNN above the limit is a warning, critical once its gradients are also huge or non-finite;
 * LSTM and GRU gates bound the recurrence, so for them a radius above 1 is reported only while their gradients explode.
 */
export function detectRecurrentInstability(options: DetectRecurrentInstabilityOptions = {}): Detector {
  const where = 'detectRecurrentInstability';
  const maxRadius = checkNumber(where, 'maxRadius', options.maxRadius ?? 1, { exclusiveMin: 0 });
  const tolerance = checkNumber(where, 'tolerance', options.tolerance ?? 0.01, { min: 0 });
  const criticalNorm = checkNumber(where, 'criticalNorm', options.criticalNorm ?? 1000, { exclusiveMin: 0 });
  let spectra: readonly RecurrentStatistics[] = [];
  return {
    name: where,
    observe(s) {
      if (s.recurrent) spectra = s.recurrent;
      const findings: Finding[] = [];
      const seen = new Set<string>();
      // The worst gate per layer, largest radius first.
      for (const r of [...spectra].sort((a, b) => b.spectralRadius - a.spectralRadius)) {
        if (seen.has(r.layer) || !(r.spectralRadius > maxRadius + tolerance)) continue;
        seen.add(r.layer);
        const layerNorm = s.layers.find((l) => l.layer === r.layer)?.norm;
        const exploding = layerNorm !== undefined && !(layerNorm < criticalNorm);
        if (isGated(r.className) && !exploding) continue;
        const why = explainRadius(r);
        findings.push({
          problem: 'recurrent-instability',
          severity: exploding ? 'critical' : 'warning',
          layer: r.layer,
          message:
            `${why.text.charAt(0).toUpperCase()}${why.text.slice(1)}.` +
            (layerNorm !== undefined ? ` Its gradient norm is now ${fmt(layerNorm)}.` : ''),
          evidence: {
            className: r.className,
            gate: r.gate,
            spectralRadius: r.spectralRadius,
            maxSingularValue: r.maxSingularValue,
            timeSteps: why.timeSteps,
            growthBound: why.growth,
            ...(layerNorm !== undefined ? { layerNorm } : {}),
          },
          advice: ADVICE['recurrent-instability'],
        });
      }
      // The monitor keeps one finding per detector and problem per step: give it the most severe.
      findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
      return findings.slice(0, 1);
    },
    reset() {
      spectra = [];
    },
  };
}
