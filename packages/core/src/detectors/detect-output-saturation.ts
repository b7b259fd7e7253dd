import { ADVICE } from '../advice';
import type { Detector, Finding, LayerDescription } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectOutputSaturationOptions {
  /** The step's global gradient norm at or below this share of its recent median collapses. Default 1e-4. */
  readonly collapse?: number;
  /** ... while the loss is at least this share of the first loss (training has not converged). Default 0.5. */
  readonly lossShare?: number;
  /** Earlier steps (with a finite norm) the recent median is taken over, at most. Default 20. */
  readonly window?: number;
  /** Earlier steps needed before a step is judged. Default 3. */
  readonly minHistory?: number;
}

/**
 * A saturated output: the whole step's gradient collapses — its global norm at most 1e-4 of the median of the steps
 * before — while the loss is still at least half of where it started. A loss far from its minimum with no gradient at
 * all means the loss's derivative with respect to the outputs vanished for every example of the batch: the output
 * units are pinned (a softmax or sigmoid driven to confident answers, many of them wrong — tfjs clips probabilities
 * to [1e-7, 1 − 1e-7], so an example past the clip passes exactly zero gradient — or ReLU outputs dead for every
 * example), and the model cannot learn its way out.
 *
 * Because the earlier steps had gradients, updates drove the outputs there: the diagnosis names a learning rate too
 * high as the cause (evidence `rootCause: 'learning-rate'`) and proposes a rate 10× lower when the step carries it.
 * Measured on the casebook (3 blobs, inputs unscaled, SGD at 1, seed 2): the loss swings 4.5–8.9 and never falls
 * below its start — as Adam's and RMSProp's healthy runs on the same seed do in their first dozen steps, so the loss
 * alone cannot tell them apart — but its norm drops from 0.27–7.5 to 1.3e-7 at step 5, at a loss of 5.0. No step of
 * the casebook's 41 healthy runs fell below 2e-2 of its median at such a loss, except one run at momentum 0.99 that
 * saturated the same way for a step (2e-5). A collapse from the very first step (no earlier gradient) is left to the
 * vanishing-gradient and initialization rules.
 */
export function detectOutputSaturation(options: DetectOutputSaturationOptions = {}): Detector {
  const where = 'detectOutputSaturation';
  checkOptions(where, options, ['collapse', 'lossShare', 'window', 'minHistory']);
  const collapse = checkNumber(where, 'collapse', options.collapse ?? 1e-4, { exclusiveMin: 0, max: 1 });
  const lossShare = checkNumber(where, 'lossShare', options.lossShare ?? 0.5, { exclusiveMin: 0 });
  const window = checkNumber(where, 'window', options.window ?? 20, { min: 1, integer: true });
  const minHistory = checkNumber(where, 'minHistory', options.minHistory ?? 3, { min: 1, max: window, integer: true });
  const norms: number[] = []; // the last `window` finite global norms, oldest first
  const sorted: number[] = [];
  let firstLoss = Number.NaN;
  let output: LayerDescription | undefined;
  return {
    name: where,
    observe(s) {
      const norm = s.globalNorm;
      const loss = s.loss;
      if (!Number.isFinite(norm) || loss === undefined || !Number.isFinite(loss)) return [];
      if (Number.isNaN(firstLoss)) firstLoss = loss;
      let finding: readonly Finding[] = [];
      if (norms.length >= minHistory) {
        sorted.length = 0;
        for (const n of norms) sorted.push(n);
        sorted.sort((a, b) => a - b);
        const typical = sorted[sorted.length >> 1]!;
        if (typical > 0 && norm <= collapse * typical && firstLoss > 0 && loss >= lossShare * firstLoss) {
          const lr = s.learningRate !== undefined && Number.isFinite(s.learningRate) && s.learningRate > 0 ? s.learningRate : undefined;
          const what = output ? `the output layer "${output.name}"${output.activation ? ` (${output.activation})` : ''}` : 'the output layer';
          finding = [
            {
              problem: 'saturation',
              severity: 'warning',
              ...(output ? { layer: output.name } : {}),
              message:
                `The gradient vanished at a high loss: at step ${s.step} its norm is ${fmt(norm)}, ${fmt(norm / typical)} of its recent ` +
                `median ${fmt(typical)}, while the loss is ${fmt(loss)} (${fmt(loss / firstLoss)}× where it started). ` +
                `${what[0]!.toUpperCase()}${what.slice(1)} is saturated: pinned at confident answers, many of them wrong, it passes no gradient and the model stops learning. ` +
                `The updates drove it there: the learning rate is too high — try ${lr === undefined ? 'a rate 10× lower' : `${fmt(lr / 10)} (10× lower than ${fmt(lr)})`}; inputs on a large scale make it worse.`,
              evidence: {
                globalNorm: norm,
                typicalNorm: typical,
                ratio: norm / typical,
                loss,
                firstLoss,
                learningRate: lr ?? null,
                suggestedLearningRate: lr === undefined ? null : lr / 10,
                rootCause: 'learning-rate',
              },
              advice: ADVICE.saturation,
            },
          ];
        }
      }
      norms.push(norm);
      if (norms.length > window) norms.shift();
      return finding;
    },
    reset() {
      norms.length = 0;
      firstLoss = Number.NaN;
    },
    describeModel(layers) {
      output = layers[layers.length - 1];
    },
  };
}
