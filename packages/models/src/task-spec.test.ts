import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TASK_NAMES, type TaskSpec, createTask } from './task-spec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createTask', () => {
  it('makes every named task, whose data has the shapes it declares', async () => {
    const specs: TaskSpec[] = [
      { name: 'adding', sequenceLength: 6 },
      { name: 'temporal-order', sequenceLength: 10 },
      { name: 'copy', delay: 3 },
      { name: 'noisy-sine', sequenceLength: 5, flatten: true },
      { name: 'two-spirals', turns: 2 },
    ];
    expect(specs.map((s) => s.name)).toEqual([...TASK_NAMES]);
    for (const spec of specs) {
      const task = createTask(spec);
      expect(task.name).toBe(spec.name);
      const data = task.generate(7, 1);
      expect(data.xs.shape).toEqual([7, ...task.inputShape]);
      expect(data.ys.shape.at(-1)).toBe(task.outputs);
      expect(data.ys.shape.length).toBe(task.returnSequences ? 3 : 2);
      tf.dispose([data.xs, data.ys]);
    }
  });

  it('passes options through (threshold, input scale) and rejects an unknown task', async () => {
    expect(createTask({ name: 'adding', sequenceLength: 4, threshold: 0.01 }).criterion.threshold).toBe(0.01);
    const big = createTask({ name: 'two-spirals', inputScale: 1000, noise: 0 }).generate(50, 2);
    const maxAbs = tf.tidy(() => tf.max(tf.abs(big.xs)));
    const max = (await maxAbs.data())[0]!;
    maxAbs.dispose();
    expect(max).toBeGreaterThan(500);
    expect(max).toBeLessThanOrEqual(1000);
    tf.dispose([big.xs, big.ys]);
    expect(() => createTask({ name: 'mnist' } as never)).toThrow(/unknown task "mnist"; use one of adding, temporal-order, copy, noisy-sine, two-spirals/);
  });
});
