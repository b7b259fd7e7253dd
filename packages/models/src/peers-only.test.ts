// This file imports only the tfjs packages @gradguard/models declares as peers (tfjs-core and tfjs-layers) plus a
// backend, never the union package @tensorflow/tfjs: importing that adds chained tensor methods (`t.flatten()`) to
// every tensor, which hides any use of them. A user with tfjs-core + tfjs-layers must be able to build and train
// every model of the zoo.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMlp } from './mlp';
import { buildRecurrent } from './recurrent';
import { runScenario } from './run-scenario';
import { getScenario } from './scenarios';
import { buildSimpleRnn } from './simple-rnn';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('with tfjs-core and tfjs-layers only', () => {
  it('runs in a process where chained tensor methods are absent', () => {
    // The premise of this file: if another import registered them, the tests below would prove nothing.
    expect((tf.Tensor.prototype as unknown as Record<string, unknown>).flatten).toBeUndefined();
  });

  it('builds and trains every recurrent cell (their default recurrent initializer is orthogonal) and an MLP with batch norm', async () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([8, 5, 2], 0, 1, 'float32', 1);
    const y = tf.randomNormal([8, 1], 0, 1, 'float32', 2);
    const models = [
      buildSimpleRnn({ sequenceLength: 5, features: 2, units: 4, recurrentGain: 1.5, seed: 3 }),
      ...(['simple-rnn', 'lstm', 'gru'] as const).map((cell) =>
        buildRecurrent({ sequenceLength: 5, features: 2, cell, units: 4, layers: 2, batchNorm: cell === 'gru', seed: 3 }),
      ),
    ];
    const flat = tf.reshape(x, [8, 10]);
    const mlp = buildMlp({ inputs: 10, depth: 3, width: 4, batchNorm: true, regularizer: { l1: 1e-3, l2: 1e-3 }, seed: 3 });
    for (const [m, input] of [...models.map((m) => [m, x] as const), [mlp, flat] as const]) {
      const optimizer = tf.train.sgd(0.01);
      m.compile({ optimizer, loss: 'meanSquaredError' });
      const h = await m.fit(input, y, { epochs: 2, batchSize: 4, verbose: 0 });
      expect(h.history.loss!.every((l) => Number.isFinite(l as number))).toBe(true);
      m.dispose();
      optimizer.dispose();
    }
    tf.dispose([x, y, flat]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs a recurrent scenario end to end', async () => {
    const r = await runScenario({ ...getScenario('healthy-gru-adding'), steps: 5 });
    expect(r.finite).toBe(true);
    expect(r.stepsRun).toBe(5);
  });
});
