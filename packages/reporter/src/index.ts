// Universal entry (browser-safe, no tfjs, no Node built-ins). Node-only sinks live in `@gradguard/reporter/node`.
export { createRecorder } from './recorder';
export type { Recorder, RecorderOptions, Watchable } from './recorder';
export { createJsonlSink } from './jsonl';
export { summarizeModel, toStepRecord, toDiagnosisRecord, makeHeader } from './records';
export type { ModelSummary, SummarizableModel } from './records';
export { table } from './format';
export type { RunSink } from './sink';
export { renderHtmlReport, clipBoundOf } from './html-report';
export type { ChartAssets, HtmlReportOptions } from './html-report';
export { summarizeRun, findDivergence } from './summary';
export type { RunSummary, RunDivergence } from './summary';
export {
  TENSORBOARD_FILE_VERSION,
  encodeTensorBoardEvent,
  encodeTfRecord,
  maskedCrc32c,
  histogramOf,
  stepToTensorBoardEvent,
  fileVersionEvent,
} from './tensorboard';
export type { TensorBoardEvent, TensorBoardValue, TensorBoardHistogram } from './tensorboard';
export { createMemorySink } from './memory-sink';
export type { MemorySink } from './memory-sink';
export { toStepStatistics } from './step-statistics';
