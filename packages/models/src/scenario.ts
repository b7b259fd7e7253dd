import type { ModelSpec } from './model-spec';
import type { OptimizerSpec } from './optimizer-spec';
import type { TaskSpec } from './task-spec';

/**
 * What a scenario's run must show. The names are those of `@gradguard/core`'s `Problem` (kept in sync by hand:
 * models may not import core), plus 'healthy' for a run that must raise no warning and meet its task criterion.
 */
export const EXPECTED_PROBLEMS = ['healthy', 'exploding-gradient', 'vanishing-gradient', 'dying-relu', 'loss-divergence'] as const;
export type ExpectedProblem = (typeof EXPECTED_PROBLEMS)[number];

/**
 * The knobs an automatic repair may turn on a scenario, in the documented repair order's vocabulary:
 * - 'clipping': wrap the optimizer with a gradient clip (no change to the scenario data);
 * - 'learning-rate': lower `optimizer.learningRate`;
 * - 'initializer': change the model's kernel / recurrent initializer or recurrent radius;
 * - 'batch-norm': set `model.batchNorm`;
 * - 'cell': swap a recurrent `model.cell` (SimpleRNN → LSTM/GRU);
 * - 'activation': change `model.activation`;
 * - 'input-scale': normalize the inputs (set the task's `inputScale` back to 1).
 */
export const REPAIR_KNOBS = ['clipping', 'learning-rate', 'initializer', 'batch-norm', 'cell', 'activation', 'input-scale'] as const;
export type RepairKnob = (typeof REPAIR_KNOBS)[number];

/** One named training run, as plain JSON-safe data: everything needed to rebuild it exactly from its seed. */
export interface Scenario {
  readonly name: string;
  /** One sentence: what is trained and why it breaks (or why it is healthy). */
  readonly description: string;
  readonly expected: ExpectedProblem;
  readonly model: ModelSpec;
  readonly task: TaskSpec;
  readonly optimizer: OptimizerSpec;
  /** Optimizer steps (one batch each). */
  readonly steps: number;
  readonly batchSize: number;
  /** Training examples; batches cycle through them in order. */
  readonly samples: number;
  /** Held-out examples the task criterion is judged on (generated from another seed). */
  readonly evalSamples: number;
  /** Seeds the model's initializers and the data. */
  readonly seed: number;
  /** Part of the quick subset (the whole subset trains in well under a minute on 2 cores). */
  readonly quick: boolean;
  /** Knobs a repair may change; empty for healthy scenarios. */
  readonly repairs: readonly RepairKnob[];
}
