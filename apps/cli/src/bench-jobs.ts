import { type AutopilotReport, autopilot, observeScenario } from '@gradguard/autopilot';
import { getScenario } from '@gradguard/models';

/**
 * One independent run of `gradguard bench`, as plain data: it crosses a process boundary (the worker pool) and comes
 * back as plain data, so a run gives the same numbers in a worker as in the main process.
 */
export type BenchJob = { readonly kind: 'scenario'; readonly scenario: string; readonly repair: boolean };

export type BenchJobResult = AutopilotReport;

/** A short name for progress lines and error messages. */
export function jobLabel(job: BenchJob): string {
  return job.scenario;
}

/**
 * Runs one job on the active backend: a scenario through the autopilot (detect → repair → verify), or, with
 * `repair: false`, only observed.
 */
export async function runBenchJob(job: BenchJob): Promise<BenchJobResult> {
  const scenario = getScenario(job.scenario);
  if (job.repair) return autopilot(scenario);
  const obs = await observeScenario(scenario);
  return {
    scenario: scenario.name,
    detected: obs.problems,
    firstDetectionStep: obs.firstDetectionStep,
    target: obs.problems[0] ?? null,
    criterionMet: obs.result.evaluation.passed,
    metric: obs.result.evaluation.value,
    attempts: [],
    repairedBy: null,
    durationMs: obs.result.durationMs,
  };
}
