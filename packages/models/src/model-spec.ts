import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelOptionError } from './errors';
import { type MlpOptions, buildMlp } from './mlp';
import { type RecurrentOptions, buildRecurrent } from './recurrent';
import type { Task } from './task';

/** What a task fixes about a model (shapes, head, seed) is left out: the task and scenario supply it. */
type Decided = 'sequenceLength' | 'features' | 'outputs' | 'outputActivation' | 'returnSequences' | 'seed' | 'inputs';

/** A model as plain data (JSON-safe): the knobs of {@link buildRecurrent} or {@link buildMlp}, shapes left to the task. */
export type ModelSpec =
  | ({ readonly kind: 'recurrent' } & Omit<RecurrentOptions, Decided>)
  | ({ readonly kind: 'mlp' } & Omit<MlpOptions, Decided>);

/** Builds the model a spec names, shaped for the task's inputs and outputs, with every initializer seeded by `seed`. */
export function buildModel(spec: ModelSpec, task: Task, seed: number): LayersModel {
  const head = { outputs: task.outputs, outputActivation: task.outputActivation, seed };
  if (spec.kind === 'recurrent') {
    const { kind: _kind, ...options } = spec;
    if (task.inputShape.length !== 2) {
      throw new ModelOptionError(`buildModel: a recurrent model needs a sequence task, but ${task.name} has input shape [${task.inputShape.join(', ')}].`);
    }
    return buildRecurrent({ ...options, ...head, sequenceLength: task.inputShape[0]!, features: task.inputShape[1]!, returnSequences: task.returnSequences });
  }
  if (spec.kind === 'mlp') {
    const { kind: _kind, ...options } = spec;
    if (task.inputShape.length !== 1) {
      throw new ModelOptionError(`buildModel: an MLP needs a flat-input task, but ${task.name} has input shape [${task.inputShape.join(', ')}].`);
    }
    return buildMlp({ ...options, ...head, inputs: task.inputShape[0]! });
  }
  throw new ModelOptionError(`buildModel: unknown model kind ${JSON.stringify((spec as { kind?: unknown }).kind)}; use 'recurrent' or 'mlp'.`);
}
