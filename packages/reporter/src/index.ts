// Universal entry (browser-safe, no tfjs, no Node built-ins). Node-only sinks live in `@gradguard/reporter/node`.
export { createRecorder } from './recorder';
export type { Recorder, RecorderOptions, Watchable } from './recorder';
export { createJsonlSink } from './jsonl';
export { summarizeModel, toStepRecord, toDiagnosisRecord, makeHeader } from './records';
export type { ModelSummary, SummarizableModel } from './records';
export { table } from './format';
export type { RunSink } from './sink';
