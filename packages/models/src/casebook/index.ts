export type {
  Case,
  CaseActivation,
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
  CaseSource,
  CaseWithTruth,
  SeedTruth,
} from './case';
export { CASE_ACTIVATIONS, CASE_FAMILIES, CASE_LAYER_TYPES, CASE_OPTIMIZERS, CASE_OUTCOMES } from './case';
export { buildCaseModel, caseInitializer, caseLearningRate, createCaseOptimizer } from './build';
export { applyChange, describeChange } from './change';
export { ADDITION_CHARS, HOUSING_FEATURES, HOUSING_TARGET, IRIS_CLASSES, generateCaseData, regressionCoefficients } from './data';
export type { CaseArrays } from './data';
export { caseSteps, divergenceStepOf, evaluateCase, runCase } from './run-case';
export type { CaseRun, RunCaseOptions } from './run-case';
export { CASE_DEFINITIONS } from './cases';
export { CASEBOOK, getCase } from './casebook';
