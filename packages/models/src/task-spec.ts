import { addingTask } from './adding-problem';
import { copyTask } from './copy-memory';
import { ModelOptionError } from './errors';
import { TASK_NAMES, type TaskName } from './names';
import { noisySineTask } from './noisy-sine';
import type { Task } from './task';
import { temporalOrderTask } from './temporal-order';
import { twoSpiralsTask } from './two-spirals';

/** A task as plain data (JSON-safe), so a scenario can name it. */
export type TaskSpec =
  | { readonly name: 'adding'; readonly sequenceLength: number; readonly threshold?: number }
  | { readonly name: 'temporal-order'; readonly sequenceLength: number; readonly threshold?: number }
  | { readonly name: 'copy'; readonly delay: number; readonly length?: number; readonly alphabet?: number; readonly threshold?: number }
  | { readonly name: 'noisy-sine'; readonly sequenceLength: number; readonly noise?: number; readonly inputScale?: number; readonly flatten?: boolean; readonly threshold?: number }
  | { readonly name: 'two-spirals'; readonly turns?: number; readonly noise?: number; readonly inputScale?: number; readonly threshold?: number };

export { TASK_NAMES, type TaskName };

/** Makes the {@link Task} a spec names. */
export function createTask(spec: TaskSpec): Task {
  const { name, ...options } = spec;
  switch (spec.name) {
    case 'adding':
      return addingTask(spec);
    case 'temporal-order':
      return temporalOrderTask(spec);
    case 'copy':
      return copyTask(spec);
    case 'noisy-sine':
      return noisySineTask(spec);
    case 'two-spirals':
      return twoSpiralsTask(options);
    default:
      throw new ModelOptionError(`createTask: unknown task ${JSON.stringify(name)}; use one of ${TASK_NAMES.join(', ')}.`);
  }
}
