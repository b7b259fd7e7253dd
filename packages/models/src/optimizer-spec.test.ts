import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer } from './optimizer-spec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createOptimizer', () => {
  it('makes the named tfjs optimizer with the given settings', () => {
    const sgd = createOptimizer({ name: 'sgd', learningRate: 0.1 });
    const momentum = createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 0.5 });
    const adam = createOptimizer({ name: 'adam', learningRate: 0.01 });
    const rms = createOptimizer({ name: 'rmsprop', learningRate: 0.01 });
    expect(sgd.getClassName()).toBe('SGD');
    expect(momentum.getConfig()).toMatchObject({ learningRate: 0.1, momentum: 0.5 });
    expect(adam.getConfig()).toMatchObject({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(rms.getClassName()).toBe('RMSProp');
    for (const o of [sgd, momentum, adam, rms]) o.dispose();
  });

  it('one SGD step moves a weight by exactly lr·gradient', async () => {
    const w = tf.variable(tf.scalar(3));
    const sgd = createOptimizer({ name: 'sgd', learningRate: 0.25 });
    sgd.minimize(() => tf.square(w) as tf.Scalar); // d(w²)/dw = 6
    expect((await w.data())[0]).toBeCloseTo(3 - 0.25 * 6, 6);
    sgd.dispose();
    w.dispose();
  });

  it('rejects an unknown name or a bad learning rate', () => {
    expect(() => createOptimizer({ name: 'adagrad' as never, learningRate: 1 })).toThrow(/unknown optimizer "adagrad"; use one of sgd, momentum, adam, rmsprop/);
    expect(() => createOptimizer({ name: 'sgd', learningRate: 0 })).toThrow(/learningRate must be a number > 0, got 0/);
  });
});
