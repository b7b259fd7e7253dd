export { buildSimpleRnn } from './simple-rnn';
export type { SimpleRnnOptions } from './simple-rnn';
export { addingProblem, ADDING_BASELINE_MSE } from './adding-problem';
export type { AddingProblemOptions, TaskData } from './adding-problem';
export { createRandom, randomInt } from './random';
export { ModelOptionError } from './errors';
