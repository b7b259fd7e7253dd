// The monitor and its detectors: pure functions over numbers, no tfjs. Tools that only read run logs (the CLI's
// `diagnose`, a viewer) re-run the detectors through this entry without loading a tfjs engine.
export { createMonitor, defaultDetectors } from './monitor';
export type { Monitor, MonitorOptions } from './monitor';
export { SEVERITY_RANK } from './detector';
export type { Detector, Finding, KernelFacts, LayerDescription } from './detector';
export type { Diagnosis, StepStatistics } from './run-log/index';
