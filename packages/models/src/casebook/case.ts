/**
 * A casebook case: a training run someone outside this project wrote (a benchmark's Keras model, a Stack Overflow
 * question, a public tfjs example), re-expressed as plain JSON-safe data — layers, initializers, optimizer as the
 * source wrote it, loss, batch, epochs, a seeded data generator with the published parameters — together with the
 * ground truth measured by running it here and the fixes the field accepts for it.
 */

/** Keras' initializer names (snake_case, as a model's source writes them) or a parameterized one. */
export type CaseInitializer =
  | 'glorot_uniform'
  | 'glorot_normal'
  | 'he_uniform'
  | 'he_normal'
  | 'lecun_normal'
  | 'orthogonal'
  | 'zeros'
  | 'ones'
  | { readonly name: 'random_uniform'; readonly minval: number; readonly maxval: number }
  | { readonly name: 'random_normal'; readonly stddev: number }
  | { readonly name: 'orthogonal'; readonly gain: number };

export const CASE_ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax', 'elu', 'selu'] as const;
export type CaseActivation = (typeof CASE_ACTIVATIONS)[number];

/** One layer as the source declared it. Omitted options take Keras/tfjs-layers defaults (seeded here). */
export type CaseLayer =
  | {
      readonly type: 'dense';
      readonly units: number;
      readonly activation?: CaseActivation;
      readonly kernelInitializer?: CaseInitializer;
      readonly biasInitializer?: CaseInitializer;
    }
  | {
      readonly type: 'lstm' | 'gru' | 'simpleRNN';
      readonly units: number;
      /** Default tanh. */
      readonly activation?: CaseActivation;
      readonly returnSequences?: boolean;
      readonly kernelInitializer?: CaseInitializer;
      /** Default orthogonal. */
      readonly recurrentInitializer?: CaseInitializer;
    }
  | { readonly type: 'embedding'; readonly inputDim: number; readonly outputDim: number }
  | { readonly type: 'repeatVector'; readonly n: number }
  /** `timeDistributed(dense(...))`, the head of the tfjs sequence-to-sequence examples. */
  | { readonly type: 'timeDistributedDense'; readonly units: number; readonly activation?: CaseActivation }
  | { readonly type: 'batchNormalization' }
  | { readonly type: 'dropout'; readonly rate: number }
  | { readonly type: 'flatten' };

export const CASE_LAYER_TYPES = [
  'dense',
  'lstm',
  'gru',
  'simpleRNN',
  'embedding',
  'repeatVector',
  'timeDistributedDense',
  'batchNormalization',
  'dropout',
  'flatten',
] as const;

export const CASE_OPTIMIZERS = ['sgd', 'adam', 'rmsprop', 'adagrad', 'adamax', 'adadelta'] as const;
export type CaseOptimizerName = (typeof CASE_OPTIMIZERS)[number];

/**
 * The optimizer as the source gave it. `byName: true` means the source passed just the name to `compile`
 * (`optimizer: 'adam'`), which gets tfjs-layers' settings for that name; otherwise the class with these arguments
 * and Keras' defaults for the rest (SGD 0.01, Adam 0.001 / 0.9 / 0.999 / 1e-7, RMSprop 0.001 / ρ 0.9 / 1e-7,
 * Adagrad 0.01 / 0.1, Adamax 0.002, Adadelta 1.0 / 0.95). `clipnorm` and `clipvalue` are Keras' optimizer arguments
 * (per-tensor norm, per-entry value); a runner needs a clipping optimizer for them (see `runCase`).
 */
export interface CaseOptimizer {
  readonly name: CaseOptimizerName;
  readonly byName?: boolean;
  readonly learningRate?: number;
  /** SGD momentum (0 = plain SGD). */
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly rho?: number;
  readonly epsilon?: number;
  readonly clipnorm?: number;
  readonly clipvalue?: number;
}

export type CaseLoss = 'meanSquaredError' | 'meanAbsoluteError' | 'binaryCrossentropy' | 'categoricalCrossentropy';

/**
 * A data generator and its published parameters. `problemSeed` fixes what the source fixed (sklearn's
 * `random_state` for blob centers or regression coefficients, a corpus): it stays the same across run seeds, which
 * vary only the samples drawn and the initial weights.
 */
export type CaseData =
  | { readonly kind: 'circles'; readonly noise: number; readonly factor?: number; readonly minMaxScale?: boolean }
  | { readonly kind: 'blobs'; readonly centers: number; readonly features: number; readonly std: number; readonly problemSeed: number }
  | {
      readonly kind: 'regression';
      readonly features: number;
      readonly informative: number;
      readonly noise: number;
      readonly problemSeed: number;
      /** Standardize the targets (the accepted fix in the source); default false, as published. */
      readonly standardizeTargets?: boolean;
    }
  | { readonly kind: 'power'; readonly exponent: number; readonly range: number; readonly scaled?: boolean }
  | { readonly kind: 'iris' }
  | { readonly kind: 'housing'; readonly normalized: boolean; readonly problemSeed: number }
  | { readonly kind: 'addition'; readonly digits: number }
  | { readonly kind: 'text'; readonly alphabet: number; readonly sampleLength: number; readonly problemSeed: number }
  | { readonly kind: 'sentiment'; readonly vocabulary: number; readonly maxLength: number; readonly problemSeed: number }
  | { readonly kind: 'weather'; readonly lookBack: number; readonly delay: number; readonly features: number };

/** What a case's run shows. `learns`: the criterion is met; the rest are the failures as a user sees them. */
export const CASE_OUTCOMES = ['learns', 'nan', 'diverges', 'stalls'] as const;
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];

/** The kind of failure a diagnosis must name: blow-up (loss/gradients/weights grow or turn NaN) or no learning signal. */
export const CASE_FAMILIES = ['healthy', 'exploding', 'vanishing'] as const;
export type CaseFamily = (typeof CASE_FAMILIES)[number];

/** When the task counts as solved on held-out data. */
export interface CaseCriterion {
  /** 'r2' is 1 − mse / var(targets) on the held-out data: scale-free, so a fix that rescales the targets is judged alike. */
  readonly metric: 'accuracy' | 'r2' | 'mse' | 'mae';
  /** accuracy or r2 ≥ threshold, or error ≤ threshold. */
  readonly threshold: number;
}

/** What one seed's run showed (measured; see `scripts/casebook-truth.ts`). */
export interface SeedTruth {
  readonly seed: number;
  readonly outcome: CaseOutcome;
  /** Held-out metric after training (NaN when the weights were lost). */
  readonly metric: number;
  /** 1-based step of the first non-finite loss, or null. */
  readonly nanStep: number | null;
  /** 1-based step at which the loss first reached twice its first value (or went non-finite), or null. */
  readonly divergenceStep: number | null;
}

/** A fix the field accepts for the case: where it is written down, and the change as data. */
export interface CaseFix {
  readonly name: string;
  /** Who accepts it: the source's answer, the benchmark's repair, a tutorial. */
  readonly source: string;
  readonly change: CaseChange;
}

/** A change to a case, as plain data (`applyChange` makes the changed case). */
export type CaseChange =
  | { readonly kind: 'optimizer'; readonly optimizer: CaseOptimizer }
  | { readonly kind: 'learning-rate'; readonly factor: number }
  | { readonly kind: 'clipnorm'; readonly value: number }
  | { readonly kind: 'clipvalue'; readonly value: number }
  /** Every hidden layer with `from` activation (every hidden layer when `from` is absent) gets `to`, with `initializer`. */
  | { readonly kind: 'activation'; readonly from?: CaseActivation; readonly to: CaseActivation; readonly initializer?: CaseInitializer }
  | { readonly kind: 'output-activation'; readonly to: CaseActivation }
  | { readonly kind: 'initializer'; readonly initializer: CaseInitializer }
  | { readonly kind: 'batch-norm' }
  | { readonly kind: 'normalize-data' };

export interface CaseSource {
  /** A URL, or a citation for papers and books. */
  readonly ref: string;
  /** What the source published (its topology, settings and reported result), in our words. */
  readonly published: string;
  /** AUTOTRAINER's recorded verdict on this case, where it published one. */
  readonly autotrainer?: string;
}

export interface Case {
  readonly name: string;
  readonly title: string;
  readonly source: CaseSource;
  readonly family: CaseFamily;
  /** Per-sample input shape. */
  readonly inputShape: readonly number[];
  readonly layers: readonly CaseLayer[];
  readonly loss: CaseLoss;
  readonly optimizer: CaseOptimizer;
  readonly batchSize: number;
  readonly epochs: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly data: CaseData;
  readonly criterion: CaseCriterion;
  /** What was cut from the source to run in seconds on a 2-core CPU (samples, epochs, widths), or ''. */
  readonly reduced: string;
  readonly fixes: readonly CaseFix[];
}

/** A case with its measured ground truth. */
export interface CaseWithTruth extends Case {
  readonly truth: readonly SeedTruth[];
}
