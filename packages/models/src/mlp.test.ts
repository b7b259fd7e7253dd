import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMlp } from './mlp';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildMlp', () => {
  it('has depth hidden layers of the given width, then the head', () => {
    const m = buildMlp({ inputs: 3, depth: 4, width: 7, outputs: 2, outputActivation: 'softmax' });
    expect(m.getWeights().map((w) => w.shape)).toEqual([[3, 7], [7], [7, 7], [7], [7, 7], [7], [7, 7], [7], [7, 2], [2]]);
    expect(m.layers.map((l) => l.name)).toEqual(['dense_1', 'act_1', 'dense_2', 'act_2', 'dense_3', 'act_3', 'dense_4', 'act_4', 'head']);
    const out = m.predict(tf.ones([5, 3])) as tf.Tensor;
    expect(out.shape).toEqual([5, 2]);
    out.dispose();
    m.dispose();
  });

  it('puts batch norm between each dense layer and its activation', () => {
    const m = buildMlp({ inputs: 2, depth: 2, width: 4, batchNorm: true });
    expect(m.layers.map((l) => l.name)).toEqual(['dense_1', 'batch_norm_1', 'act_1', 'dense_2', 'batch_norm_2', 'act_2', 'head']);
    m.dispose();
  });

  it('same seed gives identical weights, a different seed different ones; the bias constant is applied', async () => {
    const data = async (m: tf.LayersModel) => Promise.all(m.getWeights().map((w) => w.data()));
    const opts = { inputs: 2, depth: 3, width: 8, kernelInitializer: { kind: 'he-normal' }, biasInitializer: -0.5 } as const;
    const [a, b, c] = [buildMlp({ ...opts, seed: 9 }), buildMlp({ ...opts, seed: 9 }), buildMlp({ ...opts, seed: 10 })];
    const wa = await data(a);
    expect(wa).toEqual(await data(b));
    expect(wa[0]).not.toEqual((await data(c))[0]);
    expect(Array.from(wa[1]!)).toEqual(Array(8).fill(-0.5));
    for (const m of [a, b, c]) m.dispose();
  });

  it('reproduces the depth effect: deep sigmoid vanishes, deep ReLU with a large init explodes, He keeps it O(1)', async () => {
    // ‖∂loss/∂W₁‖ / ‖∂loss/∂W_head‖ at init, on the same batch.
    const ratio = async (opts: Parameters<typeof buildMlp>[0]) => {
      const m = buildMlp(opts);
      const x = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const r = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar, vars);
        return tf.div(tf.norm(grads[vars[0]!.name]!), tf.norm(grads[vars.at(-2)!.name]!));
      });
      const v = (await r.data())[0]!;
      tf.dispose([x, r]);
      m.dispose();
      return v;
    };
    expect(await ratio({ inputs: 4, depth: 12, width: 32, activation: 'sigmoid' })).toBeLessThan(1e-5);
    expect(await ratio({ inputs: 4, depth: 12, width: 32, activation: 'relu', kernelInitializer: { kind: 'scaled-normal', stddev: 0.5 } })).toBeGreaterThan(1e-2);
    const he = await ratio({ inputs: 4, depth: 12, width: 32, activation: 'relu', kernelInitializer: { kind: 'he-normal' } });
    expect(he).toBeGreaterThan(1e-2);
    expect(he).toBeLessThan(1e2);
  });

  it('rejects bad options', () => {
    expect(() => buildMlp({ inputs: 2, depth: 0 })).toThrow(/depth must be an integer >= 1, got 0/);
    expect(() => buildMlp({ inputs: 2, biasInitializer: Number.NaN })).toThrow(/biasInitializer must be a finite number/);
  });
});
