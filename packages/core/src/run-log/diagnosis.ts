/**
 * The problems gradguard names. Each has one meaning across detectors, reports and the run log.
 */
export const PROBLEMS = [
  'exploding-gradient',
  'vanishing-gradient',
  'non-finite',
  'loss-divergence',
  'gradient-spike',
  'weight-growth',
  'dying-relu',
  'recurrent-instability',
  // Since @gradguard/core 0.3; logs without it still validate (run-log version 1).
  'saturation',
  'clip-starvation',
] as const;
export type Problem = (typeof PROBLEMS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How a diagnosis relates to the ones before it: a new problem, the same problem got worse, or it stopped. */
export const PHASES = ['onset', 'escalation', 'recovery'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Remedies a diagnosis can point to. Names of transformations are those exported by `@gradguard/mitigations`;
 * the rest are changes to the model or the training setup.
 */
export const REMEDIES = [
  'clipByGlobalNorm',
  'clipByNorm',
  'clipByValue',
  'adaptiveGradClip',
  'autoClip',
  'zClip',
  'spikeClip',
  'skipNonFinite',
  'skipOnSpike',
  'adaGC',
  'clipByGroupedGlobalNorm',
  'rollback',
  'addWeightDecay',
  'lowerLearningRate',
  'learningRateWarmup',
  'betterInitialization',
  'batchNormalization',
  'simplerNetwork',
  'useLstm',
  'changeActivation',
  'normalizeInputs',
] as const;
export type Remedy = (typeof REMEDIES)[number];

export interface Advice {
  readonly remedy: Remedy;
  /** One sentence: what to do, with a starting value where one is known. */
  readonly detail: string;
}

/** A finding about the run: what is wrong, where, since when, the numbers behind it and what to do. */
export interface Diagnosis {
  readonly problem: Problem;
  readonly severity: Severity;
  readonly phase: Phase;
  /** The training step (0-based count of optimizer updates) this diagnosis was made at. */
  readonly step: number;
  /** The layer to blame, when one is. Layer names are `model.layers[i].name`, nested models joined by `/`. */
  readonly layer?: string;
  /** The detector's name, e.g. `detectNonFinite`. */
  readonly detector: string;
  /** One or two sentences a user can act on. */
  readonly message: string;
  /** The numbers the detector decided on. */
  readonly evidence: Readonly<Record<string, number | string | boolean | null>>;
  readonly advice: readonly Advice[];
}
