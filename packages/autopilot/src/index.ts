export { autopilot, observeScenario } from './autopilot';
export type { AutopilotOptions, AutopilotReport, Attempt, Observation, ObserveOptions } from './autopilot';
export { REPAIR_ORDER, planRepairs, combineRepairs } from './repairs';
export type { GuardRepair, RepairName, RepairPlan } from './repairs';
export {
  CASE_REPAIRS,
  FAMILY_PROBLEMS,
  applicableRepairs,
  chooseCaseRepair,
  casebookJobs,
  isSerious,
  namesFailure,
  rightProblems,
  runCaseJob,
  scoreCasebook,
  statedCause,
  symptomStep,
} from './casebook';
export type { CaseJob, CaseJobResult, CaseRepair, CaseScore, CasebookScore } from './casebook';
