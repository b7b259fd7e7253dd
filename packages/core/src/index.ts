export { createGradientMeter, gradientStats, gradientStatsOnDevice } from './gradient-stats';
export type {
  GradientMeter,
  GradientMeterOptions,
  GradientStatsOptions,
  HistogramOptions,
  MeasuredGradients,
  PendingGradientStats,
  StatsKernel,
  TensorFacts,
} from './gradient-stats';
export { createReadback } from './readback';
export {
  TENSOR_STATS_KERNEL,
  TENSOR_STATS_FIELDS,
  TENSOR_STATS_LAYOUT,
  decodeTensorStats,
  hasTensorStatsKernel,
  runTensorStatsKernel,
  tensorStatsReference,
} from './stats-kernel';
export type { DecodedTensorStats } from './stats-kernel';
export type { ReadValues, StepReadback } from './readback';
export { hostViewOf } from './host-buffers';
export type { HostView } from './host-buffers';
export { mapVariablesToLayers, layerOrder, describeLayers } from './layer-map';
export type { LayerLike, LayerMap, VariableLocation } from './layer-map';
export { createMonitor, defaultDetectors } from './monitor';
export type { Monitor, MonitorOptions } from './monitor';
export { SEVERITY_RANK } from './detector';
export type { Detector, Finding, KernelFacts, LayerDescription } from './detector';
export { detectNonFinite } from './detectors/detect-non-finite';
export { detectNormAboveBound } from './detectors/detect-norm-above-bound';
export type { DetectNormAboveBoundOptions } from './detectors/detect-norm-above-bound';
export { detectGradientSpike } from './detectors/detect-gradient-spike';
export type { DetectGradientSpikeOptions } from './detectors/detect-gradient-spike';
export { detectLayerRatio } from './detectors/detect-layer-ratio';
export type { DetectLayerRatioOptions } from './detectors/detect-layer-ratio';
export { detectVanishingGradient } from './detectors/detect-vanishing-gradient';
export type { DetectVanishingGradientOptions } from './detectors/detect-vanishing-gradient';
export { detectWeightGrowth } from './detectors/detect-weight-growth';
export type { DetectWeightGrowthOptions } from './detectors/detect-weight-growth';
export { detectLossDivergence } from './detectors/detect-loss-divergence';
export type { DetectLossDivergenceOptions } from './detectors/detect-loss-divergence';
export { detectDyingRelu } from './detectors/detect-dying-relu';
export type { DetectDyingReluOptions } from './detectors/detect-dying-relu';
export { detectRecurrentInstability } from './detectors/detect-recurrent-instability';
export type { DetectRecurrentInstabilityOptions } from './detectors/detect-recurrent-instability';
export { detectSaturation } from './detectors/detect-saturation';
export { detectOutputSaturation } from './detectors/detect-output-saturation';
export type { DetectSaturationOptions } from './detectors/detect-saturation';
export type { DetectOutputSaturationOptions } from './detectors/detect-output-saturation';
export { detectInitialization } from './detectors/detect-initialization';
export type { DetectInitializationOptions } from './detectors/detect-initialization';
export { kernelFactsOnDevice, measureKernels, measureKernelsNow } from './kernel-facts';
export { detectClipStarvation } from './detectors/detect-clip-starvation';
export type { DetectClipStarvationOptions } from './detectors/detect-clip-starvation';
export { createLayerTracker, describeAttribution } from './detectors/layer-attribution';
export type { ExplosionAttribution, LayerTracker } from './detectors/layer-attribution';
export { explainRadius } from './detectors/recurrent-risk';
export { inspectModel } from './inspect-model';
export { checkModelSupport, TRAINING_KERNELS } from './model-support';
export type { ModelLike, ModelSupport, UnsupportedLayer } from './model-support';
export type { InspectModelOptions, ModelInspection } from './inspect-model';
export {
  spectralRadius,
  recurrentSpectra,
  recurrentSpectraOnDevice,
  findRecurrentKernels,
  RECURRENT_GATES,
} from './spectral-radius';
export type { SpectralOptions, PendingSpectra, RecurrentKernel } from './spectral-radius';
export { ADVICE } from './advice';
export { formatNumber } from './format';
export {
  GradguardError,
  InvalidArgumentError,
  RunLogError,
  checkNumber,
  checkOptions,
  describeValue,
} from './errors';
export type { GradguardErrorCode } from './errors';
// The run-log validator (zod schemas, parseRunLog, parseRunLogRecord, createRunLogLineReader) is exported only from
// `@gradguard/core/run-log`: only readers of untrusted logs need it, and this entry is what `guard` and the monitor load
// in a browser bundle, where zod would add ~95 KB (Vite) to ~450 KB (esbuild). Writers need only what is below.
export { RUN_LOG_VERSION } from './run-log/version';
export { encodeRunLogRecord } from './run-log/encode';
export { PROBLEMS, SEVERITIES, PHASES, REMEDIES } from './run-log/diagnosis';
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
} from './run-log/index';
export { activateRegisteredBackend, errorSummary } from './activate-backend';
export type { ActivationResult } from './activate-backend';
