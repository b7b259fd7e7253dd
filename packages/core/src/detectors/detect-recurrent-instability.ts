import { ADVICE, adviceFor, wasClipped } from '../advice';
import { type Detector, type Finding, SEVERITY_RANK } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import type { RecurrentStatistics } from '../run-log/statistics';
import { explainRadius, isGated } from './recurrent-risk';

export interface DetectRecurrentInstabilityOptions {
  /** Spectral radius above which the recurrence amplifies. Default 1. */
  readonly maxRadius?: number;
  /** Slack above `maxRadius` before it counts (an orthogonal kernel of gain 1 measures 1 ± float error). Default 0.01. */
  readonly tolerance?: number;
  /**
   * ... and only when the growth bound over the layer's sequence, r^T, reaches this (T from the input shape, else 50).
   * Default 100, inside the measured gap between healthy and exploding runs: training nudges a gain-1 orthogonal
   * kernel to r ≈ 1.02 (1.5× over T = 20), and the casebook's healthy tfjs jena-weather SimpleRNN (tanh, RMSProp)
   * reaches r = 1.10 by step 15, 1.10^24 = 10.3 over its 24 steps, while it learns (MAE 0.14); the exploding
   * recurrences measured sit at 1.2^49 ≈ 7.6e3 (Pascanu's adding problem) and 1.5^39 ≈ 7e6 (the scenario suite) and
   * beyond. A tanh recurrence is bounded, so a radius just over 1 is not yet a blow-up.
   */
  readonly minGrowth?: number;
  /** A layer's gradient norm (or a non-finite one) that, with the radius above the limit, makes it critical. Default 1000. */
  readonly criticalNorm?: number;
  /**
   * A SimpleRNN whose bound on the gradient through its whole sequence, σ^(T−1) (σ the recurrent kernel's largest
   * singular value, T its time steps), is at or below this is a vanishing-gradient warning. Default 1e-6: the
   * first-to-last time-step gradient ratio at which the scenario suite's own measurements call a run vanishing.
   * Set 0 to turn the rule off.
   */
  readonly vanishingBound?: number;
}

/**
 * Recurrent instability (Pascanu, Mikolov & Bengio 2013): a recurrent kernel with spectral radius r > 1 lets
 * gradients through T steps grow like r^T. Reads `recurrent` spectra from the statistics (measure them with
 * `gradientStats(grads, { model, recurrent: true, detailEvery: k })`; the last ones seen are kept between
 * measurements). A SimpleRNN above the limit is a warning, critical once its gradients are also huge or non-finite;
 * LSTM and GRU gates bound the recurrence, so for them a radius above 1 is reported only while their gradients explode.
 *
 * Vanishing through time: per-layer weight-gradient norms can look normal while the gradient reaching early time
 * steps is gone (the kernel's gradient is a sum over steps, dominated by the last ones). For a SimpleRNN, h_t =
 * f(W·x_t + U·h_{t−1}), the step Jacobian is diag(f′)·U, so ‖∂h_{T−1}/∂h_0‖ ≤ (γ·σ_max(U))^(T−1) with γ = max f′ ≤ 1
 * for tanh, ReLU and sigmoid (Pascanu et al. 2013: σ_max < 1/γ is sufficient for vanishing). The rule uses γ = 1, so
 * the bound it reports is an upper bound on the real ratio: when it is below `vanishingBound` the gradient from the
 * first step is certainly that small. It needs T, taken from the layer's input shape; without T it says nothing.
 * Gated cells (LSTM, GRU) are exempt: their additive memory path is not bounded this way.
 */
export function detectRecurrentInstability(options: DetectRecurrentInstabilityOptions = {}): Detector {
  const where = 'detectRecurrentInstability';
  checkOptions(where, options, ['maxRadius', 'tolerance', 'minGrowth', 'criticalNorm', 'vanishingBound']);
  const maxRadius = checkNumber(where, 'maxRadius', options.maxRadius ?? 1, { exclusiveMin: 0 });
  const tolerance = checkNumber(where, 'tolerance', options.tolerance ?? 0.01, { min: 0 });
  const minGrowth = checkNumber(where, 'minGrowth', options.minGrowth ?? 100, { min: 1 });
  const criticalNorm = checkNumber(where, 'criticalNorm', options.criticalNorm ?? 1000, { exclusiveMin: 0 });
  const vanishingBound = checkNumber(where, 'vanishingBound', options.vanishingBound ?? 1e-6, { min: 0, max: 0.999 });
  let spectra: readonly RecurrentStatistics[] = [];
  return {
    name: where,
    observe(s) {
      if (s.recurrent) spectra = s.recurrent;
      const findings: Finding[] = [];
      const seen = new Set<string>();
      const clipped = wasClipped(s);
      // The worst gate per layer, largest radius first.
      for (const r of [...spectra].sort((a, b) => b.spectralRadius - a.spectralRadius)) {
        if (seen.has(r.layer) || !(r.spectralRadius > maxRadius + tolerance)) continue;
        seen.add(r.layer);
        const layerNorm = s.layers.find((l) => l.layer === r.layer)?.norm;
        const exploding = layerNorm !== undefined && !(layerNorm < criticalNorm);
        if (isGated(r.className) && !exploding) continue;
        const why = explainRadius(r);
        if (why.growth < minGrowth) continue;
        findings.push({
          problem: 'recurrent-instability',
          severity: exploding ? 'critical' : 'warning',
          layer: r.layer,
          message: why.sentence + (layerNorm !== undefined ? ` Its gradient norm is now ${fmt(layerNorm)}.` : ''),
          evidence: {
            ...why.evidence,
            ...(layerNorm !== undefined ? { layerNorm } : {}),
          },
          // Under clipping already, the remedy is the kernel itself, not more clipping.
          advice: adviceFor('recurrent-instability', clipped),
        });
      }
      // The monitor keeps one finding per detector and problem per step: give it the most severe.
      findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
      const vanishing = vanishingFinding(spectra, vanishingBound);
      return [...findings.slice(0, 1), ...(vanishing ? [vanishing] : [])];
    },
    reset() {
      spectra = [];
    },
  };
}

/** The SimpleRNN layer with the smallest σ^(T−1) bound at or below `limit`, as a vanishing-gradient finding. */
function vanishingFinding(spectra: readonly RecurrentStatistics[], limit: number): Finding | undefined {
  let worst: { r: RecurrentStatistics; bound: number; T: number } | undefined;
  for (const r of spectra) {
    if (isGated(r.className) || r.timeSteps === undefined || r.timeSteps < 2) continue;
    const sigma = r.maxSingularValue;
    if (!(sigma >= 0 && sigma < 1)) continue;
    const bound = sigma ** (r.timeSteps - 1);
    if (bound <= limit && (worst === undefined || bound < worst.bound)) worst = { r, bound, T: r.timeSteps };
  }
  if (!worst) return undefined;
  const { r, bound, T } = worst;
  return {
    problem: 'vanishing-gradient',
    severity: 'warning',
    layer: r.layer,
    message:
      `Layer "${r.layer}" (SimpleRNN): the recurrent kernel's largest singular value is σ = ${fmt(r.maxSingularValue)} < 1, so ` +
      `the gradient reaching the first of its T = ${T} steps is at most σ^${T - 1} = ${fmt(bound)} of the last step's: ` +
      `it cannot learn dependencies that far back.`,
    evidence: { className: r.className, maxSingularValue: r.maxSingularValue, spectralRadius: r.spectralRadius, timeSteps: T, timeGradientBound: bound, limit },
    advice: ADVICE['vanishing-gradient'],
  };
}
