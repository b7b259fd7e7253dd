// `@gradguard/core/run-log/encode`: the run-log format for writers — record types, constants, the encoder and the
// error classes — with no validator (no zod) and no tfjs. Sinks and recorders that only write logs import this, so a
// browser page that records a run carries neither; readers of untrusted logs use `@gradguard/core/run-log`.
export { RUN_LOG_VERSION } from './version';
export { encodeRunLogRecord } from './encode';
export { PROBLEMS, SEVERITIES, PHASES, REMEDIES } from './diagnosis';
export type {
  HeaderRecord,
  StepRecord,
  DiagnosisRecord,
  EndRecord,
  RunLogRecord,
  RunLog,
  Problem,
  Severity,
  Phase,
  Remedy,
  Advice,
  Diagnosis,
  VariableStatistics,
  LayerStatistics,
  RecurrentStatistics,
  GradientStatistics,
  StepStatistics,
  StepReplay,
} from './index';
export { GradguardError, RunLogError, InvalidArgumentError, checkNumber, checkOptions, describeValue } from '../errors';
export type { GradguardErrorCode } from '../errors';
export { formatNumber } from '../format';
