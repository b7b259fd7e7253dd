export { guard, terminateOnProblem } from './guard';
export { OPTIMIZER_NAMES, optimizerFromName } from './optimizer-names';
export { guardModel } from './guard-model';
export type { CompiledModelLike } from './guard-model';
export type { GuardCheckpoint } from './checkpoint';
export { instrumentTraining } from './instrument';
export type { InstrumentOptions, InstrumentTargets, InstrumentedRun, Instrumentation } from './instrument';
export { watchTraining } from './watch-training';
export type { RunRecorderLike, WatchTrainingOptions, WatchedTraining } from './watch-training';
export type { OptimizerName } from './guard';
export type { GuardOptions, GuardedOptimizer, RollbackOptions, RollbackEvent, TerminateOptions, TerminateCallback } from './guard';
export type { NonFiniteReplay } from './replay-non-finite';
export { chain } from './chain';
export type { ChainState } from './chain';
export { clipByGlobalNorm } from './clip-by-global-norm';
export { clipByGroupedGlobalNorm } from './clip-by-grouped-global-norm';
export type { ClipByGroupedGlobalNormOptions, NormGroup } from './clip-by-grouped-global-norm';
export { clipByValue } from './clip-by-value';
export { clipByNorm } from './clip-by-norm';
export { adaptiveGradClip, unitwiseNorm } from './adaptive-grad-clip';
export type { AdaptiveGradClipOptions } from './adaptive-grad-clip';
export { adaGC } from './ada-gc';
export type { AdaGcOptions, AdaGcState } from './ada-gc';
export { autoClip } from './auto-clip';
export type { AutoClipOptions, AutoClipState } from './auto-clip';
export { zClip } from './z-clip';
export type { ZClipOptions, ZClipState } from './z-clip';
export { spikeClip } from './spike-clip';
export type { SpikeClipOptions, SpikeClipState } from './spike-clip';
export { skipNonFinite, NonFiniteLimitError } from './skip-non-finite';
export type { SkipNonFiniteOptions, SkipNonFiniteState } from './skip-non-finite';
export { skipOnSpike } from './skip-on-spike';
export type { SkipOnSpikeOptions, SkipOnSpikeState } from './skip-on-spike';
export { addWeightDecay, decoupledWeightDecay } from './add-weight-decay';
export type { AddWeightDecayOptions, DecoupledWeightDecayOptions } from './add-weight-decay';
export { controlLearningRate, readLearningRate, setLearningRate } from './learning-rate';
export type {
  LearningRateControl,
  LearningRateControlOptions,
  LearningRateWarmup,
  LearningRateBackoff,
} from './learning-rate';
export { optimizerSlots } from './optimizer-slots';
export { disposeState, disposeNew, keepState } from './transformation';
export type { GradientTransformation, TransformState, EmptyState, TensorMap, ApplyContext } from './transformation';
