export { gradientStats, gradientStatsOnDevice } from './gradient-stats';
export type { GradientStatsOptions, PendingGradientStats } from './gradient-stats';
export { mapVariablesToLayers, layerOrder } from './layer-map';
export type { LayerLike, LayerMap, VariableLocation } from './layer-map';
export { createMonitor, defaultDetectors } from './monitor';
export type { Monitor, MonitorOptions } from './monitor';
export { SEVERITY_RANK } from './detector';
export type { Detector, Finding } from './detector';
export { detectNonFinite } from './detectors/detect-non-finite';
export { detectNormAboveBound } from './detectors/detect-norm-above-bound';
export type { DetectNormAboveBoundOptions } from './detectors/detect-norm-above-bound';
export { ADVICE } from './advice';
export { formatNumber } from './format';
export {
  GradguardError,
  InvalidArgumentError,
  RunLogError,
  checkNumber,
  describeValue,
} from './errors';
export type { GradguardErrorCode } from './errors';
export {
  RUN_LOG_VERSION,
  runLogRecordSchema,
  headerRecordSchema,
  stepRecordSchema,
  diagnosisRecordSchema,
  endRecordSchema,
  encodeRunLogRecord,
  parseRunLogRecord,
  parseRunLog,
  PROBLEMS,
  SEVERITIES,
  PHASES,
  REMEDIES,
} from './run-log/index';
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
  GradientStatistics,
  StepStatistics,
} from './run-log/index';
