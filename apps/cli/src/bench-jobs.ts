import { type AutopilotReport, type CaseJob, type CaseJobResult, autopilot, observeScenario, runCaseJob } from '@gradguard/autopilot';
import { getScenario } from '@gradguard/models';

/**
 * One independent run of `gradguard bench`, as plain data: it crosses a process boundary (the worker pool) and comes
 * back as plain data, so a run gives the same numbers in a worker as in the main process.
 */
export type BenchJob =
  | { readonly kind: 'scenario'; readonly scenario: string; readonly repair: boolean }
  /** One (case, seed, arm) of `bench --casebook` (@gradguard/autopilot's `runCaseJob`). */
  | { readonly kind: 'casebook'; readonly job: CaseJob };

export type BenchJobResult = AutopilotReport | CaseJobResult;

/** A short name for progress lines and error messages. */
export function jobLabel(job: BenchJob): string {
  if (job.kind === 'scenario') return job.scenario;
  const c = job.job;
  return `${c.case} seed ${c.seed} ${c.arm}${c.arm === 'accepted-fix' ? ` ${c.fix}` : ''}`;
}

/**
 * Runs one job on the active backend: a scenario through the autopilot (detect → repair → verify), or, with
 * `repair: false`, only observed; or one casebook job.
 */
export async function runBenchJob(job: BenchJob): Promise<BenchJobResult> {
  if (job.kind === 'casebook') return runCaseJob(job.job);
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
