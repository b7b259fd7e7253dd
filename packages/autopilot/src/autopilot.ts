import { type Diagnosis, type Problem, createMonitor, type Detector } from '@gradguard/core';
import { type WatchedTraining, watchTraining } from '@gradguard/mitigations';
import { type RunScenarioOptions, type Scenario, type ScenarioResult, runScenario } from '@gradguard/models';
import { type GuardRepair, type RepairName, type RepairPlan, combineRepairs, planRepairs } from './repairs';

/** One training run of a scenario under a watching guard: what happened and what the monitor said. */
export interface Observation {
  readonly result: ScenarioResult;
  /** Every diagnosis, oldest first. */
  readonly diagnoses: readonly Diagnosis[];
  /** Problems with a warning or critical diagnosis, in the order they were first reported. */
  readonly problems: readonly Problem[];
  /** 0-based optimizer step of the first warning/critical diagnosis, or null. */
  readonly firstDetectionStep: number | null;
}

export interface ObserveOptions {
  /** Detectors for the monitor; default `defaultDetectors()` of @gradguard/core. */
  readonly detectors?: () => readonly Detector[];
  /** Transformation, learning-rate control or rollback to put on the guard (made fresh for the run). */
  readonly guard?: () => GuardRepair;
  /** Keep training through non-finite steps (rollback recovers from them). Default false: stop at the first. */
  readonly continueOnNonFinite?: boolean;
  /** Measure (and judge) every k-th step only: guard's `statsEvery`. Default 1. */
  readonly statsEvery?: number;
  /** Called after every training step, as `runScenario`'s `onStep`. */
  readonly onStep?: RunScenarioOptions['onStep'];
}

/** Trains a scenario once, watched by a monitor (and transformed when a repair asks for it). */
export async function observeScenario(scenario: Scenario, options: ObserveOptions = {}): Promise<Observation> {
  const monitor = createMonitor(options.detectors ? { detectors: options.detectors() } : {});
  let watched: WatchedTraining | undefined;
  const result = await runScenario(scenario, {
    // The one run wiring the CLI and the viewer use too; runScenario stops at the first non-finite loss itself.
    optimizerFactory: (optimizer, { model }) => {
      // Recurrent models also get their recurrent kernels' spectra measured: the one symptom of vanishing through time
      // (detectRecurrentInstability's σ^(T−1) bound) and the cause of recurrent explosions.
      watched = watchTraining(optimizer, {
        model,
        monitor,
        print: 'none', // the observation carries the diagnoses; the caller reports them
        recurrent: scenario.model.kind === 'recurrent',
        ...(options.statsEvery !== undefined ? { statsEvery: options.statsEvery } : {}),
        ...(options.guard ? options.guard() : {}),
      });
      return watched.optimizer;
    },
    ...(options.onStep ? { onStep: options.onStep } : {}),
    stopOnNonFinite: !options.continueOnNonFinite,
  });
  await watched?.end();
  const significant = monitor.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info');
  return {
    result,
    diagnoses: [...monitor.diagnoses],
    problems: [...new Set(significant.map((d) => d.problem))],
    firstDetectionStep: significant[0]?.step ?? null,
  };
}

/** Problems about the raw gradient's size, which clipping bounds in the update but cannot remove from the gradient. */
const RAW_GRADIENT_SIZE: readonly Problem[] = ['exploding-gradient', 'gradient-spike'];

export interface Attempt {
  readonly repair: RepairName;
  readonly change: string;
  readonly finite: boolean;
  readonly criterionMet: boolean;
  readonly metric: number;
  /**
   * The detected problems (and any non-finite value or loss divergence, which ruin a run whatever caused them) still
   * reported after the repair; raw-gradient size is ignored under clipping or back-off, undone steps under rollback.
   */
  readonly remaining: readonly Problem[];
  /** Other warning/critical problems the repaired run showed (e.g. gradient spikes after a switch to an LSTM). */
  readonly introduced: readonly Problem[];
  readonly success: boolean;
  readonly durationMs: number;
  /** Why the attempt ended with an error (the repair gave up), if it did. */
  readonly error?: string;
}

export interface AutopilotReport {
  readonly scenario: string;
  /** The problems the first (unrepaired) run showed; empty for a healthy run. */
  readonly detected: readonly Problem[];
  readonly firstDetectionStep: number | null;
  /** The first problem detected, or null when healthy (repairs are chosen for every detected problem). */
  readonly target: Problem | null;
  /** The unrepaired run met its task criterion. */
  readonly criterionMet: boolean;
  readonly metric: number;
  readonly attempts: readonly Attempt[];
  /** The repair that worked, or null (healthy, or nothing worked). */
  readonly repairedBy: RepairName | null;
  readonly durationMs: number;
}

export interface AutopilotOptions extends Pick<ObserveOptions, 'detectors'> {
  /** Called after each attempt (for progress). */
  readonly onAttempt?: (attempt: Attempt) => void;
}

/**
 * Detects, repairs and verifies, in the spirit of AUTOTRAINER (Zhang et al., ICSE 2021): train the scenario watched by
 * the monitor; if it shows problems, retrain from the same seed with each repair that fits one of them, in the
 * documented order (`REPAIR_ORDER`), until one run is finite, meets the task criterion and no longer shows a problem;
 * if none does, try them all at once. Every attempt is recorded.
 */
export async function autopilot(scenario: Scenario, options: AutopilotOptions = {}): Promise<AutopilotReport> {
  const started = performance.now();
  const base = await observeScenario(scenario, options);
  const target = base.problems[0] ?? null;
  const attempts: Attempt[] = [];
  let repairedBy: RepairName | null = null;
  if (target !== null) {
    // Repairs for any problem the run showed, in the documented order.
    const candidates: { name: RepairName; plan: RepairPlan }[] = planRepairs(scenario, base.problems);
    const combined = combineRepairs(scenario, base.problems);
    if (combined) candidates.push({ name: 'combined', plan: combined });
    for (const { name, plan } of candidates) {
      const t0 = performance.now();
      let attempt: Attempt;
      try {
        const obs = await observeScenario(plan.scenario, {
          ...options,
          ...(plan.guard ? { guard: plan.guard } : {}),
          continueOnNonFinite: plan.recovers === true,
        });
        // Under clipping or a backed-off rate the raw gradient may stay large while every update is bounded; under
        // rollback the non-finite steps are the ones it undid. Those are the repair working, not the problem remaining.
        const tolerated: readonly Problem[] = plan.guard
          ? plan.recovers
            ? [...RAW_GRADIENT_SIZE, 'non-finite', 'loss-divergence']
            : RAW_GRADIENT_SIZE
          : [];
        // "The problem is gone" is judged on what was detected; a new problem that does not ruin the run (it stays
        // finite and meets the criterion) is reported as introduced, not hidden.
        const ruinous: readonly Problem[] = ['non-finite', 'loss-divergence'];
        const shown = obs.problems.filter((p) => !tolerated.includes(p));
        const remaining = shown.filter((p) => base.problems.includes(p) || ruinous.includes(p));
        const introduced = shown.filter((p) => !remaining.includes(p));
        const finite = plan.recovers ? Number.isFinite(obs.result.evaluation.value) : obs.result.finite;
        attempt = {
          repair: name,
          change: plan.change,
          finite,
          criterionMet: obs.result.evaluation.passed,
          metric: obs.result.evaluation.value,
          remaining,
          introduced,
          success: finite && obs.result.evaluation.passed && remaining.length === 0,
          durationMs: performance.now() - t0,
        };
      } catch (e) {
        // A repair that gives up (rollback with nothing to roll back to, skipNonFinite over its limit) failed.
        attempt = {
          repair: name,
          change: plan.change,
          finite: false,
          criterionMet: false,
          metric: Number.NaN,
          remaining: [target],
          introduced: [],
          success: false,
          durationMs: performance.now() - t0,
          error: e instanceof Error ? e.message : String(e),
        };
      }
      attempts.push(attempt);
      options.onAttempt?.(attempt);
      if (attempt.success) {
        repairedBy = name;
        break;
      }
    }
  }
  return {
    scenario: scenario.name,
    detected: base.problems,
    firstDetectionStep: base.firstDetectionStep,
    target,
    criterionMet: base.result.evaluation.passed,
    metric: base.result.evaluation.value,
    attempts,
    repairedBy,
    durationMs: performance.now() - started,
  };
}
