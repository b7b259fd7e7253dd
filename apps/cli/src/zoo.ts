import type * as tf from '@tensorflow/tfjs';
import { ModelOptionError, type ModelSpec, type Task, type TaskSpec, buildModel as buildModelFromSpec, createOptimizer, createTask } from '@gradguard/models';
import type { Activation, ModelName, OptimizerName, TaskName } from './choices';
import { UsageError } from './errors';

export { ACTIVATIONS, MODELS, OPTIMIZERS, TASKS } from './choices';
export type { Activation, ModelName, OptimizerName, TaskName } from './choices';

export interface ModelChoice {
  readonly model: ModelName;
  readonly units: number;
  /** Recurrence activation (recurrent models) or hidden activation (mlp); default relu for simple-rnn and mlp, tanh for lstm/gru. */
  readonly activation: Activation | undefined;
  /** Spectral radius (orthogonal gain) of the recurrent kernels. */
  readonly recurrentGain: number;
  /** Stacked recurrent layers, or hidden layers of the MLP. */
  readonly depth: number;
  readonly batchNorm: boolean;
}

/** The activation a model gets when `--activation` is not given: relu for simple-rnn (tanh saturates and hides explosions) and mlp, tanh for the gated cells. */
export function defaultActivation(model: ModelName): Activation {
  return model === 'lstm' || model === 'gru' ? 'tanh' : 'relu';
}

/** Turns @gradguard/models' option errors (a bad combination of flags) into usage errors: exit code 2. */
function asUsage<T>(f: () => T, hint: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelOptionError) throw new UsageError(e.message, hint);
    throw e;
  }
}

/** The task `train` runs: @gradguard/models' `createTask`, with `--seq-len` as the sequence length (the delay for copy). */
export function buildTask(name: TaskName, seqLen: number, model: ModelName): Task {
  const spec: TaskSpec =
    name === 'copy'
      ? { name, delay: seqLen }
      : name === 'two-spirals'
        ? { name }
        : name === 'noisy-sine'
          ? { name, sequenceLength: seqLen, flatten: model === 'mlp' }
          : { name, sequenceLength: seqLen };
  return asUsage(() => createTask(spec), '--seq-len is the sequence length (the delay for copy): pick a value the task accepts.');
}

/** The model `train` builds, shaped for the task by @gradguard/models' `buildModel` and seeded by `seed`. */
export function buildModel(c: ModelChoice, task: Task, seed: number): tf.LayersModel {
  const spec: ModelSpec =
    c.model === 'mlp'
      ? { kind: 'mlp', depth: c.depth, width: c.units, activation: c.activation ?? defaultActivation(c.model), batchNorm: c.batchNorm }
      : {
          kind: 'recurrent',
          cell: c.model,
          units: c.units,
          layers: c.depth,
          activation: c.activation ?? defaultActivation(c.model),
          recurrentRadius: c.recurrentGain,
          batchNorm: c.batchNorm,
        };
  return asUsage(
    () => buildModelFromSpec(spec, task, seed),
    c.model === 'mlp'
      ? 'An MLP takes flat inputs: use --task two-spirals or --task noisy-sine, or a recurrent --model for sequence tasks.'
      : 'Recurrent models take sequences: use --task adding, temporal-order, copy or noisy-sine, or --model mlp for two-spirals.',
  );
}

export function buildOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  return asUsage(() => createOptimizer({ name, learningRate }), 'Use --lr with a number > 0.');
}
