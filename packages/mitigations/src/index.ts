export { guard, readLearningRate } from './guard';
export type { GuardOptions, GuardedOptimizer } from './guard';
export { chain } from './chain';
export type { ChainState } from './chain';
export { clipByGlobalNorm } from './clip-by-global-norm';
export { disposeState, disposeNew } from './transformation';
export type { GradientTransformation, TransformState, EmptyState, TensorMap } from './transformation';
