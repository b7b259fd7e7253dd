import { type Detector, type Finding, SEVERITY_RANK } from './detector';
import { detectNonFinite } from './detectors/detect-non-finite';
import { detectNormAboveBound } from './detectors/detect-norm-above-bound';
import { detectGradientSpike } from './detectors/detect-gradient-spike';
import { detectLayerRatio } from './detectors/detect-layer-ratio';
import { detectVanishingGradient } from './detectors/detect-vanishing-gradient';
import { detectWeightGrowth } from './detectors/detect-weight-growth';
import { detectLossDivergence } from './detectors/detect-loss-divergence';
import { detectDyingRelu } from './detectors/detect-dying-relu';
import { detectRecurrentInstability } from './detectors/detect-recurrent-instability';
import { checkNumber } from './errors';
import type { Diagnosis } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

export interface MonitorOptions {
  /** Rules to apply to every step. Default: `defaultDetectors()`. */
  readonly detectors?: readonly Detector[];
  /**
   * Steps without a finding after which an ongoing problem counts as stopped and a `recovery` diagnosis is made.
   * Default 10: a problem that comes and goes within that window is one episode, not a stream of alerts.
   */
  readonly recoveryPatience?: number;
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
  /** Forgets all diagnoses and detector state. */
  reset(): void;
}

/**
 * The detectors a monitor uses when none are given, each with its documented defaults: non-finite values, a norm
 * persistently above 1, ZClip-style spikes, AUTOTRAINER's layer-ratio rules, absolute vanishing, weight growth, loss
 * divergence, dying ReLU and recurrent instability. Chosen so that healthy training stays silent at warning level.
 */
export function defaultDetectors(): Detector[] {
  return [
    detectNonFinite(),
    detectNormAboveBound(),
    detectGradientSpike(),
    detectLayerRatio(),
    detectVanishingGradient(),
    detectWeightGrowth(),
    detectLossDivergence(),
    detectDyingRelu(),
    detectRecurrentInstability(),
  ];
}

interface Episode {
  latest: Diagnosis;
  onsetStep: number;
  lastSeen: number;
}

/**
 * Runs detectors over each step's statistics and turns their findings into diagnoses without repeating itself: a
 * problem is reported at its onset, again only when its severity rises (escalation), and once more when it has not
 * been seen for `recoveryPatience` steps (recovery). Episodes are keyed by detector and problem.
 */
export function createMonitor(options: MonitorOptions = {}): Monitor {
  const detectors = options.detectors ?? defaultDetectors();
  const recoveryPatience = checkNumber('createMonitor', 'recoveryPatience', options.recoveryPatience ?? 10, {
    min: 1,
    integer: true,
  });
  const diagnoses: Diagnosis[] = [];
  const episodes = new Map<string, Episode>();
  const listeners = new Set<(d: Diagnosis) => void>();
  let lastStep = -1;

  const emit = (d: Diagnosis, out: Diagnosis[]): void => {
    diagnoses.push(d);
    out.push(d);
    for (const l of listeners) l(d);
  };

  return {
    observe(step) {
      lastStep = step.step;
      const out: Diagnosis[] = [];
      const seen = new Set<string>();
      for (const detector of detectors) {
        for (const f of detector.observe(step)) {
          const key = `${detector.name}|${f.problem}`;
          if (seen.has(key)) continue; // one finding per detector and problem per step: the first is the strongest
          seen.add(key);
          const ep = episodes.get(key);
          if (!ep) {
            const d = toDiagnosis(f, detector.name, step.step, 'onset');
            episodes.set(key, { latest: d, onsetStep: step.step, lastSeen: step.step });
            emit(d, out);
          } else {
            ep.lastSeen = step.step;
            if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[ep.latest.severity]) {
              ep.latest = toDiagnosis(f, detector.name, step.step, 'escalation');
              emit(ep.latest, out);
            }
          }
        }
      }
      for (const [key, ep] of episodes) {
        if (step.step - ep.lastSeen >= recoveryPatience) {
          episodes.delete(key);
          emit(
            {
              problem: ep.latest.problem,
              severity: 'info',
              phase: 'recovery',
              step: step.step,
              ...(ep.latest.layer !== undefined ? { layer: ep.latest.layer } : {}),
              detector: ep.latest.detector,
              message: `Recovered: ${ep.latest.problem} (since step ${ep.onsetStep}) not seen since step ${ep.lastSeen}.`,
              evidence: { onsetStep: ep.onsetStep, lastSeen: ep.lastSeen, steps: ep.lastSeen - ep.onsetStep + 1 },
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
      return [...episodes.values()].map((e) => e.latest);
    },
    get lastStep() {
      return lastStep;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset() {
      diagnoses.length = 0;
      episodes.clear();
      lastStep = -1;
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
