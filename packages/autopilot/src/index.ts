export { autopilot, observeScenario } from './autopilot';
export type { AutopilotOptions, AutopilotReport, Attempt, Observation, ObserveOptions } from './autopilot';
export { REPAIR_ORDER, planRepairs, combineRepairs } from './repairs';
export type { GuardRepair, RepairName, RepairPlan } from './repairs';
