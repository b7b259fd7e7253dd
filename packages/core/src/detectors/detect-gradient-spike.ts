import { ADVICE } from '../advice';
import type { Detector } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import { createLayerTracker, describeAttribution } from './layer-attribution';

export interface DetectGradientSpikeOptions {
  /** z-score above which a norm is a spike. Default 2.5, ZClip's threshold. */
  readonly zThreshold?: number;
  /** EMA smoothing of the norm's mean and variance. Default 0.97 (ZClip). */
  readonly alpha?: number;
  /** Finite steps used to build the statistics before any z-score is judged. Default 25 (ZClip's warm-up). */
  readonly warmup?: number;
  /**
   * Floor on the standard deviation as a fraction of the mean, so that a perfectly constant stream does not turn
   * the first tiny wobble into an infinite z. Default 0.05.
   */
  readonly minRelativeStd?: number;
  /** Window over which spikes are counted for the evidence. Default 50 steps. */
  readonly window?: number;
  /**
   * A spike with z at or above this is a warning; below it, info. Default 10: the slow rise of the norm in healthy
   * early training reaches z ≈ 3–4 against a lagging average, a bad batch or an instability lands far above.
   */
  readonly warningZ?: number;
  /**
   * A spike is a warning only if the norm is also above this. Default 1, the norm-above-bound detector's bound: a
   * norm jumping from 0.15 to 0.8 is typically a model starting to learn (a GRU finding the signal in a long sequence
   * does exactly that) and stays within a healthy step's size; a bad batch or an instability lands above it.
   */
  readonly minWarningNorm?: number;
  /**
   * A spike that passes the warning tests is a warning only if it is not alone — another such spike within `window`
   * steps — or its z is at least this. Default 100. Healthy runs show isolated large spikes that the run absorbs at
   * once (measured: z = 15.8 on an LSTM encoder–decoder under RMSProp 0.01, whose loss was back the next step; the
   * issue-13 MLPs at z = 33.9 in their learning phase); an instability repeats, and a bad batch (inputs ×30) lands
   * far above.
   */
  readonly isolatedWarningZ?: number;
}

/** Smoothing of the loss average a spike's loss is compared with (an EMA over about ten steps). */
const LOSS_ALPHA = 0.9;

/**
 * Gradient spikes by z-score against an exponential moving average of the global norm and its variance (ZClip,
 * Kumar et al. 2025): after a warm-up, z = (‖g‖ − μ) / σ above 2.5 is a spike. As in ZClip, a spike enters the
 * averages clipped to μ + z·σ so one outlier does not hide the next. A spike is info (zClip would clip it) unless
 * z ≥ `warningZ`, the norm is above `minWarningNorm` and the loss is not falling (a step whose loss is below its
 * recent average is a model learning through a steep stretch — a GRU finding the signal in a long sequence — not a
 * bad batch or an instability, whose loss jumps) — and, below z = `isolatedWarningZ` (100), only if it is the second
 * such spike within `window` steps: an instability repeats, a healthy run absorbs a lone spike (measured: z = 15.8
 * and 33.9 in healthy runs that kept learning). Blamed on the layer whose norm grew fastest. Non-finite norms are
 * left to `detectNonFinite` and do not touch the averages.
 */
export function detectGradientSpike(options: DetectGradientSpikeOptions = {}): Detector {
  const where = 'detectGradientSpike';
  checkOptions(where, options, ['zThreshold', 'alpha', 'warmup', 'minRelativeStd', 'window', 'warningZ', 'minWarningNorm', 'isolatedWarningZ']);
  const zThreshold = checkNumber(where, 'zThreshold', options.zThreshold ?? 2.5, { exclusiveMin: 0 });
  const alpha = checkNumber(where, 'alpha', options.alpha ?? 0.97, { exclusiveMin: 0, max: 0.9999 });
  const warmup = checkNumber(where, 'warmup', options.warmup ?? 25, { min: 1, integer: true });
  const minRelativeStd = checkNumber(where, 'minRelativeStd', options.minRelativeStd ?? 0.05, { min: 0 });
  const window = checkNumber(where, 'window', options.window ?? 50, { min: 1, integer: true });
  const warningZ = checkNumber(where, 'warningZ', options.warningZ ?? 10, { exclusiveMin: 0 });
  const minWarningNorm = checkNumber(where, 'minWarningNorm', options.minWarningNorm ?? 1, { min: 0 });
  const isolatedWarningZ = checkNumber(where, 'isolatedWarningZ', options.isolatedWarningZ ?? 100, { exclusiveMin: 0 });
  const strong: number[] = []; // steps of spikes that passed the warning tests, within the window
  let seen = 0;
  let mean = 0;
  let variance = 0;
  let lossMean: number | undefined;
  const spikes: number[] = [];
  const tracker = createLayerTracker(10);
  return {
    name: where,
    observe(s) {
      tracker.observe(s);
      // The loss average before this step: a spike while the loss falls below it is the model learning.
      const lossBefore = lossMean;
      if (s.loss !== undefined && Number.isFinite(s.loss)) lossMean = lossMean === undefined ? s.loss : LOSS_ALPHA * lossMean + (1 - LOSS_ALPHA) * s.loss;
      const g = s.preClipNorm;
      if (!Number.isFinite(g)) return [];
      if (seen === 0) {
        mean = g;
        variance = 0;
      }
      seen++;
      if (seen <= warmup) {
        const d = g - mean;
        mean += (1 - alpha) * d;
        variance = alpha * (variance + (1 - alpha) * d * d);
        return [];
      }
      const std = Math.max(Math.sqrt(variance), minRelativeStd * mean, Number.MIN_VALUE);
      const z = (g - mean) / std;
      const spike = z > zThreshold;
      const admitted = spike ? mean + zThreshold * std : g;
      const d = admitted - mean;
      const before = mean;
      mean += (1 - alpha) * d;
      variance = alpha * (variance + (1 - alpha) * d * d);
      while (spikes.length > 0 && spikes[0]! <= s.step - window) spikes.shift();
      while (strong.length > 0 && strong[0]! <= s.step - window) strong.shift();
      if (!spike) return [];
      spikes.push(s.step);
      const learning = s.loss !== undefined && lossBefore !== undefined && s.loss < lossBefore;
      const candidate = z >= warningZ && g > minWarningNorm && !learning;
      if (candidate) strong.push(s.step);
      const warning = candidate && (strong.length >= 2 || z >= isolatedWarningZ);
      const why = describeAttribution(tracker.attribute(before + zThreshold * std));
      const layer = why.evidence.fastestLayer ?? why.evidence.firstLayer;
      return [
        {
          problem: 'gradient-spike',
          severity: warning ? 'warning' : 'info',
          ...(typeof layer === 'string' ? { layer } : {}),
          message:
            `Gradient norm spike at step ${s.step}: ${fmt(g)} is z = ${fmt(z)} standard deviations above its moving ` +
            `average ${fmt(before)}` +
            (spikes.length > 1 ? ` (${spikes.length} spikes in the last ${window} steps).` : '.') +
            (learning && z >= warningZ ? ` The loss ${fmt(s.loss!)} is below its recent average ${fmt(lossBefore!)}: the model is learning through it.` : '') +
            why.text,
          evidence: {
            globalNorm: g,
            mean: before,
            std,
            z,
            zThreshold,
            spikesInWindow: spikes.length,
            window,
            lossFalling: learning,
            strongSpikesInWindow: strong.length,
            ...why.evidence,
          },
          advice: ADVICE['gradient-spike'],
        },
      ];
    },
    reset() {
      seen = 0;
      mean = 0;
      variance = 0;
      spikes.length = 0;
      strong.length = 0;
      lossMean = undefined;
      tracker.reset();
    },
  };
}
