// The choices `--help` lists, without tfjs: the names come from @gradguard/models' tfjs-free entry.
import { ACTIVATIONS, type Activation, OPTIMIZER_NAMES, type OptimizerName, TASK_NAMES, type TaskName } from '@gradguard/models/names';

export const MODELS = ['simple-rnn', 'lstm', 'gru', 'mlp'] as const;
export type ModelName = (typeof MODELS)[number];
export { ACTIVATIONS, OPTIMIZER_NAMES as OPTIMIZERS, TASK_NAMES as TASKS };
export type { Activation, OptimizerName, TaskName };
