export { buildSimpleRnn } from './simple-rnn';
export type { SimpleRnnOptions } from './simple-rnn';
export { buildRecurrent, RECURRENT_CELLS, ACTIVATIONS, BATCH_NORM_MOMENTUM } from './recurrent';
export type { RecurrentOptions, RecurrentCell, Activation, OutputActivation } from './recurrent';
export { buildMlp } from './mlp';
export type { MlpOptions } from './mlp';
export { createInitializer, createRegularizer, orthogonal, INITIALIZER_KINDS } from './initializers';
export type { InitializerSpec, RegularizerSpec } from './initializers';
export { buildModel } from './model-spec';
export type { ModelSpec } from './model-spec';

export { accuracy, evaluateModel, judge, meanSquaredError } from './task';
export type { Criterion, Task, TaskData, TaskEvaluation, TaskLoss } from './task';
export { addingProblem, addingTask, ADDING_BASELINE_MSE } from './adding-problem';
export type { AddingProblemOptions, AddingTaskOptions } from './adding-problem';
export { temporalOrder, temporalOrderTask, TEMPORAL_ORDER_CLASSES, TEMPORAL_ORDER_SYMBOLS } from './temporal-order';
export type { TemporalOrderOptions, TemporalOrderTaskOptions } from './temporal-order';
export { copyMemory, copyTask } from './copy-memory';
export type { CopyMemoryOptions, CopyTaskOptions } from './copy-memory';
export { noisySine, noisySineTask } from './noisy-sine';
export type { NoisySineOptions, NoisySineTaskOptions } from './noisy-sine';
export { twoSpirals, twoSpiralsTask } from './two-spirals';
export type { TwoSpiralsOptions, TwoSpiralsTaskOptions } from './two-spirals';
export { createTask, TASK_NAMES } from './task-spec';
export type { TaskSpec, TaskName } from './task-spec';

export { createOptimizer, OPTIMIZER_NAMES } from './optimizer-spec';
export type { OptimizerSpec, OptimizerName } from './optimizer-spec';
export { EXPECTED_PROBLEMS, REPAIR_KNOBS } from './scenario';
export type { Scenario, ExpectedProblem, RepairKnob } from './scenario';
export { SCENARIOS, QUICK_SCENARIOS, getScenario, ScenarioNotFoundError } from './scenarios';
export { runScenario, EVAL_SEED_OFFSET } from './run-scenario';
export type { RunScenarioOptions, ScenarioResult, StepInfo } from './run-scenario';
export { pascanuExperiment, pascanuScenario } from './pascanu';
export type { PascanuExperimentOptions, PascanuExperimentResult } from './pascanu';

export { createRandom, randomInt, randomNormal } from './random';
export { ModelOptionError } from './errors';

export {
  CASEBOOK,
  CASE_DEFINITIONS,
  CASE_ACTIVATIONS,
  CASE_FAMILIES,
  CASE_LAYER_TYPES,
  CASE_OPTIMIZERS,
  CASE_OUTCOMES,
  ADDITION_CHARS,
  HOUSING_FEATURES,
  HOUSING_TARGET,
  IRIS_CLASSES,
  applyChange,
  buildCaseModel,
  caseInitializer,
  caseLearningRate,
  caseSteps,
  createCaseOptimizer,
  describeChange,
  divergenceStepOf,
  evaluateCase,
  generateCaseData,
  getCase,
  regressionCoefficients,
  runCase,
} from './casebook';
export type {
  Case,
  CaseActivation,
  CaseArrays,
  CaseChange,
  CaseCriterion,
  CaseData,
  CaseFamily,
  CaseFix,
  CaseInitializer,
  CaseLayer,
  CaseLoss,
  CaseOptimizer,
  CaseOptimizerName,
  CaseOutcome,
  CaseRun,
  CaseSource,
  CaseWithTruth,
  RunCaseOptions,
  SeedTruth,
} from './casebook';
