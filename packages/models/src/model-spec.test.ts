import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './model-spec';
import { createTask } from './task-spec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildModel', () => {
  it('shapes a recurrent spec to a sequence task and an MLP spec to a flat one, head included', () => {
    const copy = createTask({ name: 'copy', delay: 4, length: 2, alphabet: 3 });
    const rnn = buildModel({ kind: 'recurrent', cell: 'gru', units: 5 }, copy, 3);
    expect(rnn.inputs[0]!.shape).toEqual([null, 8, 5]);
    expect(rnn.outputs[0]!.shape).toEqual([null, 8, 4]); // per-step softmax over blank + 3 symbols
    const spirals = createTask({ name: 'two-spirals' });
    const mlp = buildModel({ kind: 'mlp', depth: 2, width: 6 }, spirals, 3);
    expect(mlp.inputs[0]!.shape).toEqual([null, 2]);
    expect(mlp.outputs[0]!.shape).toEqual([null, 1]);
    expect(mlp.layers.at(-1)!.getConfig().activation).toBe('sigmoid');
    rnn.dispose();
    mlp.dispose();
  });

  it('says which spec does not fit which task', () => {
    const spirals = createTask({ name: 'two-spirals' });
    const adding = createTask({ name: 'adding', sequenceLength: 5 });
    expect(() => buildModel({ kind: 'recurrent' }, spirals, 1)).toThrow(/a recurrent model needs a sequence task, but two-spirals has input shape \[2\]/);
    expect(() => buildModel({ kind: 'mlp' }, adding, 1)).toThrow(/an MLP needs a flat-input task, but adding has input shape \[5, 2\]/);
    expect(() => buildModel({ kind: 'cnn' } as never, adding, 1)).toThrow(/unknown model kind "cnn"/);
  });

  it('building and disposing models leaves no tensor behind', async () => {
    const adding = createTask({ name: 'adding', sequenceLength: 6 });
    const sine = createTask({ name: 'noisy-sine', sequenceLength: 6, flatten: true });
    await expectNoLeak(() => {
      for (let i = 0; i < 5; i++) {
        buildModel({ kind: 'recurrent', cell: 'lstm', layers: 2, units: 4, batchNorm: true, regularizer: { l2: 1e-3 } }, adding, i).dispose();
        buildModel({ kind: 'mlp', depth: 3, width: 4, batchNorm: true, kernelInitializer: { kind: 'orthogonal', gain: 2 } }, sine, i).dispose();
      }
    });
  });
});
