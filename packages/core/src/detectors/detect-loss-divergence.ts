import { ADVICE } from '../advice';
import type { Detector, Finding } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import type { StepStatistics } from '../run-log/statistics';

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
   * sliver of the 0.7 → 0.05 gained. A loss that never improved has given back everything. The jump and sustained
   * rules need the same share (from the first loss down to the best level); the root-cause rule does not. Default 0.25.
   */
  readonly undoneShare?: number;
  /**
   * Fast rule: a raw loss at this multiple of the run's best level (the lowest median of fifteen consecutive losses so
   * far), on one of two consecutive steps that are both at least `confirmFactor`× it, is divergence at once — no
   * smoothing, no warm-up. Critical when the loss is also above where it started. Default 3.
   */
  readonly jumpFactor?: number;
  /** The other of the two steps must be at least this multiple of the best level. Default 2. */
  readonly confirmFactor?: number;
  /**
   * Root-cause rule: a loss at this multiple of its best level while some layer's weights have grown
   * `weightGrowthFactor`× since they were first measured (within the last three steps) is critical at once and
   * names the learning rate as the cause. Default 1.5.
   */
  readonly riseFactor?: number;
  /** See `riseFactor`. Default 10, the weight-growth detector's warning factor. */
  readonly weightGrowthFactor?: number;
  /**
   * ... or grown this much in one update (between two consecutive measured steps): a weight norm that multiplies in a
   * single step is an update as large as the weights themselves, where healthy updates are ~1e-3 of them. Default 2.5
   * (measured: SGD at 1 on 3 blobs tripled the output layer's norm, 2.27 → 6.73, in its first update while the loss went
   * 2.99 → 8.12).
   */
  readonly stepGrowthFactor?: number;
}

/** Losses in the running median that sets the best level: fifteen absorb a few noisy batches (and the wobble of a converged loss). */
const LEVEL_WINDOW = 15;
/** Losses a running median needs before it may lower the level below the first loss. */
const MIN_LEVEL_LOSSES = 5;
/** A weight-growth measurement corroborates a loss rise for this many steps. */
const GROWTH_RECENT = 3;
/** Losses whose median the sustained rule compares with the best level. */
const SUSTAIN_WINDOW = 10;
/** Successive log-loss changes kept for the noise estimate, and how many it needs before it counts. */
const NOISE_WINDOW = 50;
const MIN_NOISE_SAMPLES = 8;

/**
 * Loss divergence: a non-finite loss (critical); the smoothed loss far above its best so far (warning; critical
 * when it is also `factor`× above where it started, i.e. training undid itself); or the loss trending up over a
 * window while giving back a real share of what training had gained. For losses that may be negative, "`factor`×
 * above" reads as best + (factor − 1)·|best|.
 *
 * The best and the start are tracked from the first step, judged only after `warmup` steps: a too-high learning rate
 * (Adam at 1) throws the loss from 0.7 to 8 within a handful of steps, all of them inside any warm-up — a best first
 * taken after warm-up would be the diverged loss itself and nothing would ever look "above" it.
 *
 * Two fast rules judge raw losses from the second step on, so an obvious jump is diagnosed within one to three steps
 * (the smoothed rule alone lagged ~19 steps behind an LSTM encoder–decoder whose loss went 2.5 → 8.6 in two steps).
 * The reference is the run's best level, the lowest running median of fifteen losses: one lucky batch cannot lower it
 * and one bad batch cannot raise it. (1) Jump: two consecutive losses ≥ 2× that level, one of them ≥ 3× — one noisy
 * batch is not enough. (1b) Sustained: the median of the last ten losses ≥ 2× that level, a loss that doubled and
 * stayed however it wobbles (a warning; measured on 3 blobs at SGD 1: 2.99, then 3.5–9.9). (2) Root cause: a loss ≥ 1.5× its level while a layer's weights have grown ≥ 10× since they
 * were first measured (before the first update): a too-high learning rate does exactly this in its first update
 * (measured: embedding ×13–38 at step 1 under Adam/RMSProp 0.5–1) — or ≥ 2.5× in a single update, an update as
 * large as the weights (SGD at 1 on 3 blobs: the output layer ×2.96 in its first update, the loss ×2.7) — so the
 * diagnosis says so first and proposes a
 * rate 10× lower than the current one when the step carries it. Losses ≤ 0 are left to the smoothed rule.
 * As OLMo-core judges loss spikes against the run's own spread, the jump thresholds rise with the run's batch-to-batch
 * noise: with σ the robust spread of log(loss) between steps (after eight steps), a jump must reach e^{4σ} and
 * e^{3σ} when those exceed 3 and 2. Measured quiet: 20 seeds × 400 steps of ±30 % batch noise on a fast-falling
 * loss; ±50 % noise from the very first batches can still trip it.
 */
export function detectLossDivergence(options: DetectLossDivergenceOptions = {}): Detector {
  const where = 'detectLossDivergence';
  checkOptions(where, options, ['alpha', 'warmup', 'factor', 'window', 'trendRise', 'undoneShare', 'jumpFactor', 'confirmFactor', 'riseFactor', 'weightGrowthFactor', 'stepGrowthFactor']);
  const alpha = checkNumber(where, 'alpha', options.alpha ?? 0.9, { min: 0, max: 0.9999 });
  const warmup = checkNumber(where, 'warmup', options.warmup ?? 20, { min: 1, integer: true });
  const factor = checkNumber(where, 'factor', options.factor ?? 3, { exclusiveMin: 1 });
  const window = checkNumber(where, 'window', options.window ?? 50, { min: 4, integer: true });
  const trendRise = checkNumber(where, 'trendRise', options.trendRise ?? 0.5, { exclusiveMin: 0 });
  const undoneShare = checkNumber(where, 'undoneShare', options.undoneShare ?? 0.25, { min: 0, max: 1 });
  const jumpFactor = checkNumber(where, 'jumpFactor', options.jumpFactor ?? 3, { exclusiveMin: 1 });
  const confirmFactor = checkNumber(where, 'confirmFactor', options.confirmFactor ?? 2, { exclusiveMin: 1, max: jumpFactor });
  const riseFactor = checkNumber(where, 'riseFactor', options.riseFactor ?? 1.5, { exclusiveMin: 1 });
  const weightGrowthFactor = checkNumber(where, 'weightGrowthFactor', options.weightGrowthFactor ?? 10, { exclusiveMin: 1 });
  const stepGrowthFactor = checkNumber(where, 'stepGrowthFactor', options.stepGrowthFactor ?? 2.5, { exclusiveMin: 1 });
  const lastLosses: number[] = []; // the last LEVEL_WINDOW finite losses, for the running median
  const lastTen: number[] = []; // the last SUSTAIN_WINDOW finite losses, for the sustained rule
  let level = Number.POSITIVE_INFINITY; // the lowest running median so far: the run's best level
  let prevRatio = 0;
  const logSteps: number[] = []; // |log(loss_t / loss_t-1)| of the last NOISE_WINDOW steps
  const initialWeights = new Map<string, { norm: number; step: number }>();
  const lastWeights = new Map<string, { norm: number; step: number }>();
  let growth: { factor: number; layer: string; step: number; from: number } | undefined;
  // The largest growth of a layer's weight norm in one update (consecutive measured steps), when it reached stepGrowthFactor.
  let stepGrowth: { factor: number; layer: string; step: number; from: number } | undefined;
  let seen = 0;
  let ema = 0;
  let best = Number.POSITIVE_INFINITY;
  let bestStep = -1;
  let start = Number.NaN;
  const recent: number[] = [];
  const above = (x: number, ref: number): boolean => x - ref > (factor - 1) * Math.abs(ref);

  /** The largest growth of a layer's weight norm over its first measured value, on steps that measured weights. */
  const trackGrowth = (s: StepStatistics): void => {
    let worst: { factor: number; layer: string; step: number; from: number } | undefined;
    for (const l of s.layers) {
      const w = l.weightNorm;
      if (w === undefined || !Number.isFinite(w)) continue;
      const prev = lastWeights.get(l.layer);
      if (prev !== undefined && prev.step === s.step - 1 && prev.norm > 0 && w / prev.norm >= stepGrowthFactor) {
        if (!stepGrowth || stepGrowth.step !== s.step || w / prev.norm > stepGrowth.factor) {
          stepGrowth = { factor: w / prev.norm, layer: l.layer, step: s.step, from: prev.step };
        }
      }
      if (w > 0) lastWeights.set(l.layer, { norm: w, step: s.step });
      const w0 = initialWeights.get(l.layer);
      if (w0 === undefined) {
        if (w > 0) initialWeights.set(l.layer, { norm: w, step: s.step });
        continue;
      }
      if (!worst || w / w0.norm > worst.factor) worst = { factor: w / w0.norm, layer: l.layer, step: s.step, from: w0.step };
    }
    if (worst) growth = worst;
  };

  /** The fast rules on a finite loss; updates the best level after judging. */
  const judgeFast = (s: StepStatistics, loss: number, begin: number): Finding | undefined => {
    const ratio = loss > 0 && level > 0 && Number.isFinite(level) ? loss / level : 0;
    const before = prevRatio;
    prevRatio = ratio;
    // The run's own batch-to-batch noise, as a robust σ of log(loss) from successive differences (MAD / 0.6745 / √2),
    // raises both thresholds to e^{4σ} and e^{3σ}: a loss that wobbles ±50 % per batch needs a bigger jump to count.
    const sigma = logSteps.length >= MIN_NOISE_SAMPLES ? median(logSteps) / 0.6745 / Math.SQRT2 : 0;
    const prev = lastLosses[lastLosses.length - 1];
    if (loss > 0 && prev !== undefined && prev > 0) {
      logSteps.push(Math.abs(Math.log(loss / prev)));
      if (logSteps.length > NOISE_WINDOW) logSteps.shift();
    }
    lastLosses.push(loss);
    lastTen.push(loss);
    if (lastTen.length > SUSTAIN_WINDOW) lastTen.shift();
    if (lastLosses.length > LEVEL_WINDOW) lastLosses.shift();
    const ref = level;
    // The first loss is the level until five losses can give a median: the lowest of the medians of two, three, four
    // noisy losses is biased low (at momentum 0.99 the median of 3.97, 1.62, 1.52 set a level of 1.62 that the run's
    // typical 2.8–3.5 then read as a loss that "doubled and stayed").
    if (!Number.isFinite(level) || lastLosses.length >= MIN_LEVEL_LOSSES) level = Math.min(level, median(lastLosses));
    if (ratio === 0) return undefined;
    const jumpAt = Math.max(jumpFactor, Math.exp(4 * sigma));
    const confirmAt = Math.max(confirmFactor, Math.exp(3 * sigma));
    const grown =
      growth !== undefined && growth.factor >= weightGrowthFactor && s.step - growth.step < GROWTH_RECENT
        ? growth
        : stepGrowth !== undefined && s.step - stepGrowth.step < GROWTH_RECENT
          ? stepGrowth
          : undefined;
    // Both fast rules need the rise to give back at least `undoneShare` of what training had gained, from the first
    // loss down to the best level, as the trend rule does: a converged loss wobbling ×3 (healthy two-spirals MLPs at
    // 0.0066 → 0.021 and 0.043 → 0.096, of a 0.7 start: 2 % and 8 % given back) has not undone training; a loss that
    // never improved has given back everything (the LSTM encoder–decoder at 2.485, blobs at SGD 1 from 2.99).
    const gain = begin - ref;
    const undoneEnough = (x: number): boolean => !(gain > 0) || x - ref >= undoneShare * gain;
    const jumped = Math.max(ratio, before) >= jumpAt && Math.min(ratio, before) >= confirmAt && undoneEnough(loss);
    // (3) Sustained: the median of the last ten losses at `confirmAt`× the best level — a loss that doubled and never
    // came back, however it wobbles (SGD at 1 on 3 blobs: 2.99, then 3.5–9.9 for 200 steps).
    const held = lastTen.length === SUSTAIN_WINDOW ? median(lastTen) / ref : 0;
    const sustained = held >= confirmAt && undoneEnough(held * ref);
    if (!(grown && ratio >= riseFactor) && !jumped && !sustained) return undefined;
    const undone = loss > begin;
    const lr = s.learningRate !== undefined && Number.isFinite(s.learningRate) && s.learningRate > 0 ? s.learningRate : undefined;
    const tryRate = lr === undefined ? 'a rate 10× lower than the current one' : `${fmt(lr / 10)} (10× lower than the current ${fmt(lr)})`;
    const rise = `the loss rose to ${fmt(loss)}, ×${fmt(ratio)} its best level ${fmt(ref)}` + (jumped ? ` (×${fmt(before)} the step before)` : '');
    const message = grown
      ? `The learning rate is too high for this model: ${rise} and layer "${grown.layer}"'s weights grew ` +
        `×${fmt(grown.factor)} ${grown.step - grown.from === 1 ? `in one update (step ${grown.from} to ${grown.step})` : `from step ${grown.from} to step ${grown.step}`}. Try ${tryRate}.`
      : jumped
        ? `The loss jumped at step ${s.step}: ${rise}` +
          (undone ? `, above where it started (${fmt(begin)}): training undid itself` : '') +
          `. A learning rate too high for the model is the usual cause: try ${tryRate}.`
        : `The loss has stayed high: the median of the last ${SUSTAIN_WINDOW} losses is ×${fmt(held)} its best level ` +
          `${fmt(ref)}. A learning rate too high for the model is the usual cause: try ${tryRate}.`;
    return {
      problem: 'loss-divergence',
      severity: grown || (jumped && undone) ? 'critical' : 'warning',
      ...(grown ? { layer: grown.layer } : {}),
      message,
      evidence: {
        loss,
        bestLevel: ref,
        ratio,
        previousRatio: before,
        sustainedRatio: held,
        start: begin,
        noiseSigma: sigma,
        weightGrowth: grown?.factor ?? null,
        learningRate: lr ?? null,
        suggestedLearningRate: lr === undefined ? null : lr / 10,
        rootCause: grown ? 'learning-rate' : null,
      },
      advice: [
        { remedy: 'lowerLearningRate', detail: lr === undefined ? 'Lower the learning rate 10×.' : `Lower the learning rate 10×: from ${fmt(lr)} to ${fmt(lr / 10)}.` },
        ...ADVICE['loss-divergence'].filter((a) => a.remedy !== 'lowerLearningRate'),
      ],
    };
  };

  return {
    name: where,
    observe(s) {
      trackGrowth(s);
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
      const fast = judgeFast(s, loss, seen === 0 ? loss : start);
      ema = seen === 0 ? loss : alpha * ema + (1 - alpha) * loss;
      seen++;
      if (fast) return [fast];
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
      lastLosses.length = 0;
      lastTen.length = 0;
      level = Number.POSITIVE_INFINITY;
      prevRatio = 0;
      logSteps.length = 0;
      initialWeights.clear();
      lastWeights.clear();
      growth = undefined;
      stepGrowth = undefined;
    },
  };
}

function median(xs: readonly number[]): number {
  // Insertion sort into a scratch buffer: the windows hold 10–50 finite numbers and this runs three times a step, where
  // copying and sorting with a comparator cost ~5 µs a step and this ~1 µs.
  const n = xs.length;
  if (scratch.length < n) scratch = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = xs[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! > v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  const h = n >> 1;
  return n % 2 === 1 ? scratch[h]! : (scratch[h - 1]! + scratch[h]!) / 2;
}

let scratch = new Float64Array(64);
