import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelOptionError } from './errors';
import { buildRecurrent } from './recurrent';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function weights(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

describe('buildRecurrent', () => {
  it('builds each cell with the right parameter shapes and output shape', () => {
    const base = { sequenceLength: 12, features: 3, units: 5 };
    const rnn = buildRecurrent({ ...base, cell: 'simple-rnn' });
    const lstm = buildRecurrent({ ...base, cell: 'lstm' });
    const gru = buildRecurrent({ ...base, cell: 'gru', outputs: 4, outputActivation: 'softmax' });
    const shapes = (m: tf.LayersModel) => m.getWeights().map((w) => w.shape);
    expect(shapes(rnn)).toEqual([[3, 5], [5, 5], [5], [5, 1], [1]]);
    expect(shapes(lstm)).toEqual([[3, 20], [5, 20], [20], [5, 1], [1]]); // 4 gates
    expect(shapes(gru)).toEqual([[3, 15], [5, 15], [15], [5, 4], [4]]); // 3 gates
    expect(rnn.countParams()).toBe(3 * 5 + 5 * 5 + 5 + 5 + 1);
    expect(gru.outputs[0]!.shape).toEqual([null, 4]);
    const seq = buildRecurrent({ ...base, cell: 'lstm', returnSequences: true, outputs: 2 });
    expect(seq.outputs[0]!.shape).toEqual([null, 12, 2]);
    const out = gru.predict(tf.ones([2, 12, 3])) as tf.Tensor;
    expect(out.shape).toEqual([2, 4]);
    tf.dispose(out);
    for (const m of [rnn, lstm, gru, seq]) m.dispose();
  });

  it('stacks layers (returning sequences between them) and inserts batch norm after each', () => {
    const m = buildRecurrent({ sequenceLength: 6, features: 2, cell: 'gru', layers: 3, units: 4, batchNorm: true });
    expect(m.layers.map((l) => l.name)).toEqual(['recurrent_1', 'batch_norm_1', 'recurrent_2', 'batch_norm_2', 'recurrent_3', 'batch_norm_3', 'head']);
    expect(m.layers[0]!.outputShape).toEqual([null, 6, 4]);
    expect(m.layers[4]!.outputShape).toEqual([null, 4]);
    m.dispose();
  });

  it('same seed gives identical weights; a different seed different ones', async () => {
    const opts = { sequenceLength: 8, features: 2, cell: 'lstm', layers: 2, units: 6, recurrentRadius: 1.3 } as const;
    const [a, b, c] = [buildRecurrent({ ...opts, seed: 4 }), buildRecurrent({ ...opts, seed: 4 }), buildRecurrent({ ...opts, seed: 5 })];
    expect(await weights(a)).toEqual(await weights(b));
    expect((await weights(a))[0]).not.toEqual((await weights(c))[0]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('sets the recurrent spectral radius: WᵀW = radius²·I for a square SimpleRNN kernel', async () => {
    const m = buildRecurrent({ sequenceLength: 4, features: 1, cell: 'simple-rnn', units: 8, recurrentRadius: 0.5 });
    const w = m.getWeights()[1]! as tf.Tensor2D;
    const gram = tf.matMul(w, w, true, false);
    const values = await gram.data();
    for (let i = 0; i < 8; i++) expect(values[i * 8 + i]!).toBeCloseTo(0.25, 5);
    gram.dispose();
    m.dispose();
  });

  it('adds the head kernel\'s L2 penalty to the training loss (tfjs 4.22 drops the RNN cell\'s own penalties)', async () => {
    const x = tf.ones([4, 5, 2]);
    const y = tf.zeros([4, 1]);
    const losses: number[] = [];
    for (const regularizer of [undefined, { l2: 0.5 }]) {
      const m = buildRecurrent({ sequenceLength: 5, features: 2, cell: 'simple-rnn', units: 3, seed: 2, ...(regularizer ? { regularizer } : {}) });
      m.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
      if (regularizer) {
        const h = m.getWeights()[3]!;
        const sq = (await h.square().sum().data())[0]!;
        losses.push(((await m.trainOnBatch(x, y)) as number) - 0.5 * sq);
      } else {
        losses.push((await m.trainOnBatch(x, y)) as number);
      }
      m.dispose();
    }
    expect(losses[1]!).toBeCloseTo(losses[0]!, 4);
    tf.dispose([x, y]);
  });

  it('rejects bad options with a message naming the value', () => {
    expect(() => buildRecurrent({ sequenceLength: 0, features: 1 })).toThrow(/sequenceLength must be an integer >= 1, got 0/);
    expect(() => buildRecurrent({ sequenceLength: 3, features: 1, cell: 'rnn' as never })).toThrow(/cell must be one of simple-rnn, lstm, gru, got "rnn"/);
    expect(() => buildRecurrent({ sequenceLength: 3, features: 1, recurrentRadius: 1, recurrentInitializer: { kind: 'zeros' } })).toThrow(ModelOptionError);
    expect(() => buildRecurrent({ sequenceLength: 3, features: 1, activation: 'gelu' as never })).toThrow(/activation must be one of relu/);
  });
});
