import { type Detector, type Finding, type LayerDescription, SEVERITY_RANK } from './detector';
import { detectNonFinite } from './detectors/detect-non-finite';
import { detectNormAboveBound } from './detectors/detect-norm-above-bound';
import { detectGradientSpike } from './detectors/detect-gradient-spike';
import { detectLayerRatio } from './detectors/detect-layer-ratio';
import { detectVanishingGradient } from './detectors/detect-vanishing-gradient';
import { detectWeightGrowth } from './detectors/detect-weight-growth';
import { detectLossDivergence } from './detectors/detect-loss-divergence';
import { detectDyingRelu } from './detectors/detect-dying-relu';
import { detectRecurrentInstability } from './detectors/detect-recurrent-instability';
import { detectSaturation } from './detectors/detect-saturation';
import { detectOutputSaturation } from './detectors/detect-output-saturation';
import { detectClipStarvation } from './detectors/detect-clip-starvation';
import { detectInitialization } from './detectors/detect-initialization';
import { InvalidArgumentError, checkNumber, checkOptions, describeValue } from './errors';
import type { Diagnosis } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

export interface MonitorOptions {
  /** Rules to apply to every step. Default: `defaultDetectors()`. */
  readonly detectors?: readonly Detector[];
  /**
   * Measured steps (steps passed to `observe`; with `statsEvery: 10` that is every tenth training step) without a
   * finding after which an ongoing problem counts as stopped and a `recovery` diagnosis is made. Default 20: a
   * problem that comes and goes within that window is one episode, not a stream of alerts, and its return within the
   * window is not a new onset.
   */
  readonly recoveryPatience?: number;
  /**
   * Ceiling on the quiet spell a recurring problem needs before it counts as recovered (measured steps). A problem
   * that keeps coming back is held to twice the longest quiet spell it has shown (including the ones that ended in a
   * recovery), so one that recurs every 50–150 steps through a healthy run is one episode, not a hundred onsets and
   * recoveries; this bounds that wait. Default `10 × recoveryPatience`; at least `recoveryPatience`.
   */
  readonly maxRecoveryPatience?: number;
}

export interface Monitor {
  /** Feeds one step (in step order); returns the diagnoses it gave rise to (often none). */
  observe(step: StepStatistics): Diagnosis[];
  /** Every diagnosis made so far, oldest first. */
  readonly diagnoses: readonly Diagnosis[];
  /** The problems currently ongoing (their latest onset or escalation). */
  readonly active: readonly Diagnosis[];
  /** The last step observed, or -1. */
  readonly lastStep: number;
  /** Calls `listener` with each new diagnosis; returns an unsubscribe function. */
  subscribe(listener: (d: Diagnosis) => void): () => void;
  /**
   * Tells the detectors what each layer is (name, class, activation), once per model: rules that name a problem by
   * the kind of layer read it (zeros in an LSTM are saturated units, in a ReLU layer dead units). `guard` calls it
   * when it learns the model; a run log's header carries the same entries (`header.model.layers`). Kept by `reset`.
   * Optional in the interface (a monitor of your own may leave it out); `createMonitor`'s has it.
   */
  describeModel?(layers: readonly LayerDescription[]): void;
  /** Forgets all diagnoses and detector state. */
  reset(): void;
}

/**
 * The detectors a monitor uses when none are given, each with its documented defaults: non-finite values, loss
 * divergence (first: its fast rules state the root cause, a learning rate too high, when the evidence shows it), a
 * norm persistently above 1, ZClip-style spikes, AUTOTRAINER's layer-ratio rules, absolute vanishing, weight growth,
 * dying ReLU, saturated units, a saturated output (the whole gradient gone at a high loss), recurrent instability, clip starvation and weights that start with one sign (judged
 * from the model's description, when the monitor is told it with kernels). Chosen so that healthy training stays
 * silent at warning level. A step's diagnoses come out in this order, so the cause is read before its symptoms.
 */
export function defaultDetectors(): Detector[] {
  return [
    detectNonFinite(),
    detectLossDivergence(),
    detectNormAboveBound(),
    detectGradientSpike(),
    detectLayerRatio(),
    detectVanishingGradient(),
    detectWeightGrowth(),
    detectDyingRelu(),
    detectSaturation(),
    detectOutputSaturation(),
    detectRecurrentInstability(),
    detectClipStarvation(),
    detectInitialization(),
  ];
}

interface Episode {
  latest: Diagnosis;
  onsetStep: number;
  /** Step number of the latest finding. */
  lastSeen: number;
}

/** What the monitor remembers of one detector's problem across its episodes: its rhythm. */
interface Recurrence {
  /** Index (in measured steps) of the latest finding. */
  lastIndex: number;
  /** Longest run of measured steps without a finding between two findings so far. */
  longestQuiet: number;
}

const MONITOR_OPTIONS = ['detectors', 'recoveryPatience', 'maxRecoveryPatience'] as const;

/**
 * Runs detectors over each step's statistics and turns their findings into diagnoses without repeating itself: a
 * problem is reported at its onset and again when its severity rises (escalation), both at once, never delayed; it is
 * reported recovered only after a quiet spell with no finding of it — `recoveryPatience` measured steps, or twice
 * the longest quiet spell it has shown if it keeps coming back (up to `maxRecoveryPatience`). This hysteresis, the
 * alert-flapping damping of monitoring systems, keeps a problem that comes and goes (info-level spikes all through a
 * healthy run) one episode instead of hundreds of onsets and recoveries. Episodes are keyed by detector and problem.
 */
export function createMonitor(options: MonitorOptions = {}): Monitor {
  checkOptions('createMonitor', options, MONITOR_OPTIONS, 'options');
  const detectors = checkDetectors(options.detectors);
  const recoveryPatience = checkNumber('createMonitor', 'recoveryPatience', options.recoveryPatience ?? 20, {
    min: 1,
    integer: true,
  });
  const maxRecoveryPatience = checkNumber(
    'createMonitor',
    'maxRecoveryPatience',
    options.maxRecoveryPatience ?? 10 * recoveryPatience,
    { min: recoveryPatience, integer: true },
  );
  const diagnoses: Diagnosis[] = [];
  const episodes = new Map<string, Episode>();
  let active: readonly Diagnosis[] | undefined; // `active`, kept until the episodes change
  const recurrences = new Map<string, Recurrence>();
  const listeners = new Set<(d: Diagnosis) => void>();
  let lastStep = -1;
  let index = -1; // measured steps observed so far, minus one

  const emit = (d: Diagnosis, out: Diagnosis[]): void => {
    diagnoses.push(d);
    out.push(d);
    for (const l of listeners) l(d);
  };

  return {
    observe(step) {
      checkStep(step);
      lastStep = step.step;
      index++;
      const out: Diagnosis[] = [];
      const seen = new Set<string>();
      for (const detector of detectors) {
        for (const f of detector.observe(step)) {
          const key = `${detector.name}|${f.problem}`;
          if (seen.has(key)) continue; // one finding per detector and problem per step: the first is the strongest
          seen.add(key);
          const r = recurrences.get(key);
          if (r) r.longestQuiet = Math.max(r.longestQuiet, index - r.lastIndex - 1);
          recurrences.set(key, { lastIndex: index, longestQuiet: r?.longestQuiet ?? 0 });
          const ep = episodes.get(key);
          if (!ep) {
            const d = toDiagnosis(f, detector.name, step.step, 'onset');
            episodes.set(key, { latest: d, onsetStep: step.step, lastSeen: step.step });
            active = undefined;
            emit(d, out);
          } else {
            ep.lastSeen = step.step;
            if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[ep.latest.severity]) {
              ep.latest = toDiagnosis(f, detector.name, step.step, 'escalation');
              active = undefined;
              emit(ep.latest, out);
            }
          }
        }
      }
      for (const [key, ep] of episodes) {
        const r = recurrences.get(key)!;
        const quiet = index - r.lastIndex;
        if (quiet >= Math.min(maxRecoveryPatience, Math.max(recoveryPatience, 2 * r.longestQuiet))) {
          episodes.delete(key);
          active = undefined;
          emit(
            {
              problem: ep.latest.problem,
              severity: 'info',
              phase: 'recovery',
              step: step.step,
              ...(ep.latest.layer !== undefined ? { layer: ep.latest.layer } : {}),
              detector: ep.latest.detector,
              message:
                `Recovered: ${ep.latest.problem} (since step ${ep.onsetStep}) not seen since step ${ep.lastSeen} ` +
                `(${quiet} measured steps).`,
              evidence: {
                onsetStep: ep.onsetStep,
                lastSeen: ep.lastSeen,
                steps: ep.lastSeen - ep.onsetStep + 1,
                quietSteps: quiet,
              },
              advice: [],
            },
            out,
          );
        }
      }
      return out;
    },
    get diagnoses() {
      return diagnoses;
    },
    get active() {
      // Read on every step by guard's weight cadence: built again only when an episode starts, escalates or ends.
      return (active ??= [...episodes.values()].map((e) => e.latest));
    },
    get lastStep() {
      return lastStep;
    },
    subscribe(listener) {
      if (typeof listener !== 'function') {
        throw new InvalidArgumentError(
          `monitor.subscribe: listener must be a function, got ${describeValue(listener)}.`,
          'Pass (diagnosis) => { ... }.',
        );
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    describeModel(layers) {
      if (!Array.isArray(layers) || layers.some((l: Partial<LayerDescription> | null) => typeof l?.name !== 'string' || typeof l.className !== 'string')) {
        throw new InvalidArgumentError(
          `monitor.describeModel: expected an array of { name, className, activation? }, got ${describeValue(layers)}.`,
          'Pass describeLayers(mapVariablesToLayers(model)), or a run log header\'s model.layers.',
        );
      }
      for (const d of detectors) d.describeModel?.(layers);
    },
    reset() {
      diagnoses.length = 0;
      episodes.clear();
      active = undefined;
      recurrences.clear();
      lastStep = -1;
      index = -1;
      for (const d of detectors) d.reset();
    },
  };
}

function toDiagnosis(f: Finding, detector: string, step: number, phase: Diagnosis['phase']): Diagnosis {
  return {
    problem: f.problem,
    severity: f.severity,
    phase,
    step,
    ...(f.layer !== undefined ? { layer: f.layer } : {}),
    detector,
    message: f.message,
    evidence: f.evidence,
    advice: f.advice,
  };
}

/** The detectors option: an array of objects with a name, `observe` and `reset`, checked now rather than at step 0. */
function checkDetectors(value: unknown): readonly Detector[] {
  if (value === undefined) return defaultDetectors();
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(
      `createMonitor: detectors must be an array of detectors, got ${describeValue(value)}.`,
      'Pass e.g. [detectNonFinite(), detectNormAboveBound()], or leave it out for defaultDetectors().',
    );
  }
  value.forEach((d: unknown, i) => {
    const o = d as Partial<Detector> | null;
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.observe !== 'function' || typeof o.reset !== 'function') {
      throw new InvalidArgumentError(
        `createMonitor: detectors[${i}] is not a detector (an object with a name, observe(step) and reset()), got ${describeValue(d)}.`,
        'Call the factory: detectNormAboveBound(), not detectNormAboveBound.',
      );
    }
  });
  return value as readonly Detector[];
}

/** A step record as `observe` needs it; anything else would fail inside a detector with a TypeError. */
function checkStep(step: unknown): asserts step is StepStatistics {
  const s = step as Partial<StepStatistics> | null;
  if (typeof s !== 'object' || s === null || !Array.isArray(s.layers) || typeof s.preClipNorm !== 'number') {
    throw new InvalidArgumentError(
      `monitor.observe: expected one step's statistics (an object with step, layers, preClipNorm, ...), got ${describeValue(step)}.`,
      "Pass what guard's onStep or gradientStats(...) produce, plus step, loss, preClipNorm, postClipNorm, scale and skipped.",
    );
  }
  checkNumber('monitor.observe', 'step.step', s.step, { min: 0, integer: true });
}
