import { ADVICE } from '../advice';
import type { Detector } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import { type UnitKind, unitKinds } from './unit-kind';
import { createZeroStreaks, describeZeroShare } from './zero-streaks';

export interface DetectDyingReluOptions {
  /** Fraction of a layer's units passing no gradient (see `detectDyingRelu`) at or above which they are dead. Default 0.7 (AUTOTRAINER). */
  readonly zeroFraction?: number;
  /** Consecutive steps the fraction must hold. Default 10. */
  readonly patience?: number;
  /** Layers with fewer entries are ignored (a handful of zeros says little). Default 16. */
  readonly minSize?: number;
}

/**
 * Dying ReLU (AUTOTRAINER, Zhang et al. ICSE 2021): when at least 70 % of a layer's units pass no gradient (a ReLU stuck
 * at 0 has zero derivative for every example), they no longer learn. Judged on exact zeros, which `gradientStats`
 * counts on the device, of the layer's bias gradient — one entry per unit, zero exactly when the unit was inactive for
 * the whole batch — or of all its gradient entries for a layer without a bias. (AUTOTRAINER counts all entries; that
 * also counts the next layer's kernel rows fed by dead units, and blamed a healthy softmax output for dead ReLUs
 * upstream of it.) Once the monitor is told the model (`describeModel`), only
 * ReLU-family layers (relu, relu6, elu, selu) and linear ones are judged: zeros in tanh, sigmoid, softmax, LSTM or GRU
 * layers are saturated units (`detectSaturation`), and an Embedding's gradient is sparse by design. Without a
 * description every layer is judged, as before.
 */
export function detectDyingRelu(options: DetectDyingReluOptions = {}): Detector {
  const where = 'detectDyingRelu';
  checkOptions(where, options, ['zeroFraction', 'patience', 'minSize']);
  const zeroFraction = checkNumber(where, 'zeroFraction', options.zeroFraction ?? 0.7, { exclusiveMin: 0, max: 1 });
  const patience = checkNumber(where, 'patience', options.patience ?? 10, { min: 1, integer: true });
  const minSize = checkNumber(where, 'minSize', options.minSize ?? 16, { min: 1, integer: true });
  const streaks = createZeroStreaks(zeroFraction, patience, minSize);
  let kinds = new Map<string, UnitKind>();
  const judged = (layer: string): boolean => {
    const kind = kinds.get(layer) ?? 'unknown';
    return kind === 'relu' || kind === 'unknown';
  };
  return {
    name: where,
    observe(s) {
      const worst = streaks.observe(s.step, s.layers, judged);
      if (!worst) return [];
      return [
        {
          problem: 'dying-relu',
          severity: 'warning',
          layer: worst.layer,
          message:
            describeZeroShare(worst, fmt(worst.fraction * 100), `layer "${worst.layer}"`) +
            (worst.affected > 1 ? `, as in ${worst.affected - 1} other layer(s)` : '') +
            ': its units are dead and no longer learn.',
          evidence: { zeroFraction: worst.fraction, basis: worst.basis, threshold: zeroFraction, streak: worst.count, since: worst.since, layersAffected: worst.affected },
          advice: ADVICE['dying-relu'],
        },
      ];
    },
    reset() {
      streaks.reset();
    },
    describeModel(layers) {
      kinds = unitKinds(layers);
    },
  };
}
