// The run-log schema and codec: plain types and a validator, no tfjs, so readers and the viewer can load logs.
export { RUN_LOG_VERSION, runLogRecordSchema, headerRecordSchema, stepRecordSchema, diagnosisRecordSchema, endRecordSchema } from './schema';
export type { HeaderRecord, StepRecord, DiagnosisRecord, EndRecord, RunLogRecord } from './schema';
export { encodeRunLogRecord, parseRunLogRecord, parseRunLog, createRunLogLineReader, MAX_SKIPPED_LINES } from './codec';
export type { RunLog, RunLogReadOptions, RunLogLineReader, SkippedLine, SkippedLines } from './codec';
export { PROBLEMS, SEVERITIES, PHASES, REMEDIES } from './diagnosis';
export type { Problem, Severity, Phase, Remedy, Advice, Diagnosis } from './diagnosis';
export type { VariableStatistics, LayerStatistics, RecurrentStatistics, GradientStatistics, StepStatistics, StepReplay } from './statistics';
export { GradguardError, RunLogError, InvalidArgumentError, checkNumber, checkOptions, describeValue } from '../errors';
export type { GradguardErrorCode } from '../errors';
export { formatNumber } from '../format';
