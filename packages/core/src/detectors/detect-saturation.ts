import { ADVICE } from '../advice';
import type { Detector, LayerDescription } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import { unitKind } from './unit-kind';
import { createZeroStreaks, describeZeroShare } from './zero-streaks';

export interface DetectSaturationOptions {
  /** Fraction of a layer's gradient entries exactly zero at or above which its units are saturated. Default 0.7. */
  readonly zeroFraction?: number;
  /** Consecutive steps the fraction must hold. Default 5: a saturated gate does not come back by itself. */
  readonly patience?: number;
  /** Layers with fewer entries are ignored. Default 16. */
  readonly minSize?: number;
}

/**
 * Saturated units: at least 70 % of the gradient entries of a tanh, sigmoid, softmax, LSTM or GRU layer exactly zero for
 * `patience` steps, with at least a third of its units (bias entries) passing no gradient at all — zeros with every
 * unit alive come from zero inputs (dead ReLUs upstream), not from saturation. Those activations flatten at both ends — in float32, tanh(x) is exactly 1 for x > 9 and its
 * derivative 1 − tanh² exactly 0 — so a unit pushed there passes no gradient and stops learning. This is the
 * saturating-activation counterpart of AUTOTRAINER's dying-ReLU rule (same 70 % threshold); the usual causes are a
 * learning rate too high (measured: an LSTM encoder–decoder under Adam/RMSProp 0.5–1 had 80–100 % zero gradients in
 * both LSTMs from step 1–2) or inputs on a large scale. Needs the model's description (`monitor.describeModel`, which
 * `guard` calls); without one it judges nothing and `detectDyingRelu` keeps its old, unnamed-cause verdict.
 */
export function detectSaturation(options: DetectSaturationOptions = {}): Detector {
  const where = 'detectSaturation';
  checkOptions(where, options, ['zeroFraction', 'patience', 'minSize']);
  const zeroFraction = checkNumber(where, 'zeroFraction', options.zeroFraction ?? 0.7, { exclusiveMin: 0, max: 1 });
  const patience = checkNumber(where, 'patience', options.patience ?? 5, { min: 1, integer: true });
  const minSize = checkNumber(where, 'minSize', options.minSize ?? 16, { min: 1, integer: true });
  const streaks = createZeroStreaks(zeroFraction, patience, minSize, 'entries');
  let saturating = new Map<string, LayerDescription>();
  return {
    name: where,
    observe(s) {
      if (saturating.size === 0) return [];
      const worst = streaks.observe(s.step, s.layers, (layer) => saturating.has(layer));
      if (!worst) return [];
      const d = saturating.get(worst.layer)!;
      const kind = d.activation !== undefined && !/^(LSTM|GRU|ConvLSTM2D)/.test(d.className) ? d.activation : d.className;
      return [
        {
          problem: 'saturation',
          severity: 'warning',
          layer: worst.layer,
          message:
            describeZeroShare(worst, fmt(worst.fraction * 100), `layer "${worst.layer}" (${kind})`) +
            (worst.affected > 1 ? `, as in ${worst.affected - 1} other layer(s)` : '') +
            ': its units are saturated — pinned in the flat tails of their activation, they pass no gradient. ' +
            'The usual causes are a learning rate too high or inputs on a large scale.',
          evidence: {
            zeroFraction: worst.fraction,
            basis: worst.basis,
            threshold: zeroFraction,
            streak: worst.count,
            since: worst.since,
            layersAffected: worst.affected,
            className: d.className,
            activation: d.activation ?? null,
          },
          advice: ADVICE.saturation,
        },
      ];
    },
    reset() {
      streaks.reset();
    },
    describeModel(layers) {
      saturating = new Map(layers.filter((l) => unitKind(l) === 'saturating').map((l) => [l.name, l]));
    },
  };
}
