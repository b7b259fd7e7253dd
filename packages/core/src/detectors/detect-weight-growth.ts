import { ADVICE } from '../advice';
import type { Detector, Finding } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectWeightGrowthOptions {
  /** A layer's weight norm at this multiple of its first measured value is a warning. Default 10. */
  readonly factor?: number;
  /** ... and at this multiple, critical. Default 1000. */
  readonly criticalFactor?: number;
  /** Measurements over which a steady rise is judged. Default 50. */
  readonly window?: number;
  /**
   * A rise on every one of the last `window` measurements by at least this factor overall is a warning — unless the
   * loss fell over those measurements. Default 2.
   */
  readonly steadyFactor?: number;
}

/**
 * Weights that grow unexpectedly large are a classic symptom of exploding gradients. Per layer, compares the weight
 * norm with its first measured value (warning at 10×, critical at 1000×) and flags a steady rise: every one of the
 * last `window` measurements larger than the one before, by `steadyFactor` overall. Needs weight norms in the
 * statistics (`gradientStats` measures them by default); steps without them are skipped.
 *
 * Weights also grow while a model learns: a classifier's output layer sharpens its logits, and its norm can double
 * steadily over the first hundred steps of a healthy run (measured: ×2.1 and ×2.3 on two-spirals MLPs). So the steady
 * rule is silent while the loss falls — the mean loss of the second half of the window below that of the first half
 * — and judges growth only when the loss is flat or rising (growth that buys nothing). Without losses in the
 * statistics it judges as before. The 10× rule holds regardless of the loss. One healthy run measured reached it: the
 * casebook's blob classifier at SGD momentum 0.99 (seed 2), whose output layer grew ×10.07 by step 230 while its loss
 * fell 15× — logits sharpening on separable data; the rule warns there (a false alarm the casebook counts).
 */
export function detectWeightGrowth(options: DetectWeightGrowthOptions = {}): Detector {
  const where = 'detectWeightGrowth';
  checkOptions(where, options, ['factor', 'criticalFactor', 'window', 'steadyFactor']);
  const factor = checkNumber(where, 'factor', options.factor ?? 10, { exclusiveMin: 1 });
  const criticalFactor = checkNumber(where, 'criticalFactor', options.criticalFactor ?? 1000, { min: factor });
  const window = checkNumber(where, 'window', options.window ?? 50, { min: 2, integer: true });
  const steadyFactor = checkNumber(where, 'steadyFactor', options.steadyFactor ?? 2, { exclusiveMin: 1 });
  const initial = new Map<string, { step: number; norm: number }>();
  const recent = new Map<string, number[]>(); // the last window + 1 measurements per layer
  const losses: number[] = []; // the losses of the last window + 1 steps with weight norms
  return {
    name: where,
    observe(s) {
      if (s.layers.some((l) => l.weightNorm !== undefined && Number.isFinite(l.weightNorm)) && s.loss !== undefined) {
        losses.push(s.loss);
        if (losses.length > window + 1) losses.shift();
      }
      const learning = lossFalling(losses, window);
      let worst: Finding | undefined;
      let worstGrowth = 0;
      for (const l of s.layers) {
        const w = l.weightNorm;
        if (w === undefined || !Number.isFinite(w)) continue;
        const buf = recent.get(l.layer) ?? [];
        buf.push(w);
        if (buf.length > window + 1) buf.shift();
        recent.set(l.layer, buf);
        const init = initial.get(l.layer);
        if (!init) {
          if (w > 0) initial.set(l.layer, { step: s.step, norm: w });
          continue;
        }
        const growth = w / init.norm;
        const steady = !learning && buf.length === window + 1 && buf.every((x, i) => i === 0 || x > buf[i - 1]!) && w / buf[0]! >= steadyFactor;
        if (growth < factor && !steady) continue;
        if (growth <= worstGrowth) continue;
        worstGrowth = growth;
        const critical = growth >= criticalFactor;
        worst = {
          problem: 'weight-growth',
          severity: critical ? 'critical' : 'warning',
          layer: l.layer,
          message:
            `Layer "${l.layer}" weight norm is ${fmt(w)}, ${fmt(growth)}× its value at step ${init.step} ` +
            `(${fmt(init.norm)})` +
            (steady ? `, rising on each of the last ${window} measurements (×${fmt(w / buf[0]!)}).` : '.'),
          evidence: { weightNorm: w, initialNorm: init.norm, initialStep: init.step, growth, steady, factor },
          advice: ADVICE['weight-growth'],
        };
      }
      return worst ? [worst] : [];
    },
    reset() {
      initial.clear();
      recent.clear();
      losses.length = 0;
    },
  };
}

/** The loss fell over the window: the mean of its second half is below that of its first (finite losses only). */
function lossFalling(losses: readonly number[], window: number): boolean {
  if (losses.length < window + 1 || !losses.every(Number.isFinite)) return false;
  const h = Math.floor(losses.length / 2);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean(losses.slice(h)) < mean(losses.slice(0, h));
}
