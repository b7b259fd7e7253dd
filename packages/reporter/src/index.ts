// Universal entry (browser-safe, no tfjs, no zod, no Node built-ins). Node-only sinks live in `@gradguard/reporter/node`.
export { createRecorder } from './recorder';
export type { Recorder, RecorderOptions, Watchable } from './recorder';
export { createJsonlSink } from './jsonl';
export { summarizeModel, toStepRecord, toDiagnosisRecord, makeHeader } from './records';
export type { ModelSummary, SummarizableModel } from './records';
export { escapeControlChars, table } from './format';
export type { RunSink } from './sink';
export { renderHtmlReport } from './html-report';
export type { ChartAssets, HtmlReportOptions } from './html-report';
export { clipBoundOf } from './clip-bound';
export { OTHER_LAYERS, chartData, plotValue } from './chart-data';
export type { ChartableRun, ChartData, ChartDataOptions, ChartSeries, ChartMark } from './chart-data';
export { DISPLAY_LIMITS, truncateText } from './limits';
export { mountRunCharts } from './run-charts';
export { mountLayerPictures } from './layer-pictures';
export type { LayerPictures, LayerPicturesOptions } from './layer-pictures';
export { firstDiagnosisBars, layerCell, layerHeatmap } from './layer-grid';
export type { LayerBars, LayerCell, LayerHeatmap } from './layer-grid';
export type { RunCharts, RunChartsOptions } from './run-charts';
export { diagnosisHtml, diagnosesHtml } from './diagnosis-html';
export { escapeHtml } from './html';
export { summarizeRun, summaryRows, findDivergence } from './summary';
export type { RunSummary, RunDivergence } from './summary';
// The TensorBoard encoder (protobufjs, ~100 KB minified) is exported from `@gradguard/reporter/tensorboard`, and this
// entry imports only core's validator-free `run-log/encode`: a page that records a run carries neither it nor zod.
export { createMemorySink } from './memory-sink';
export type { MemorySink } from './memory-sink';
export { toStepStatistics } from './step-statistics';
