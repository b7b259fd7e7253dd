// The names a caller picks from (cells, activations, optimizers, tasks) as plain data, without tfjs: a command line
// can offer them as choices and print its help before any tfjs engine loads (`@gradguard/models/names`).
export const RECURRENT_CELLS = ['simple-rnn', 'lstm', 'gru'] as const;
export type RecurrentCell = (typeof RECURRENT_CELLS)[number];
export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear', 'elu', 'selu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export const TASK_NAMES = ['adding', 'temporal-order', 'copy', 'noisy-sine', 'two-spirals'] as const;
export type TaskName = (typeof TASK_NAMES)[number];
