import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradientStats } from '../gradient-stats';
import { detectDyingRelu } from './detect-dying-relu';
import { unitZeroFraction } from './zero-streaks';

/**
 * Dense(10, relu) → Dense(10, relu) → Dense(3, softmax) on a fixed batch, with 8 of the first layer's 10 units killed by
 * a bias of −100 (inputs in [−1, 1] and kernel entries in [−0.5, 0.5] cannot lift them above 0): those units pass no
 * gradient for any example, so their 8 bias entries and 8 kernel columns are exactly zero — and so are 8 of the 10
 * rows of the *next* layer's kernel, whose inputs they are. Counting entries, the second layer looks as dead as the first.
 */
function deadFirstLayer(): { model: tf.LayersModel; grads: tf.NamedTensorMap; dispose(): void } {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 10, activation: 'relu', inputShape: [4], kernelInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }), name: 'hidden_1' }),
      tf.layers.dense({ units: 10, activation: 'relu', kernelInitializer: tf.initializers.randomUniform({ minval: 0.1, maxval: 0.5, seed: 2 }), biasInitializer: 'ones', name: 'hidden_2' }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 3 }), name: 'out' }),
    ],
  });
  const bias = model.layers[0]!.weights[1]!;
  const b = tf.tensor1d([-100, -100, -100, -100, -100, -100, -100, -100, 0.5, 0.5]);
  bias.write(b);
  b.dispose();
  const x = tf.randomUniform([16, 4], -1, 1, 'float32', 7);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3));
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  value.dispose();
  return {
    model,
    grads,
    dispose() {
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
    },
  };
}

describe('dead units judged by the bias gradient', () => {
  it('counts each layer’s bias entries and their exact zeros', async () => {
    const { model, grads, dispose } = deadFirstLayer();
    try {
      const s = await gradientStats(grads, { model });
      const [h1, h2, out] = s.layers;
      // 8 dead units: bias 8/10 zero, kernel 8 columns × 4 inputs zero. Layer entries 4·10 + 10 = 50, 40 of them zero.
      expect(h1).toMatchObject({ layer: 'hidden_1', size: 50, zeros: 40, biasSize: 10, biasZeros: 8 });
      // The next layer's kernel has 8 zero rows × 10 units = 80 zeros of its 110 entries, but every unit of it is alive.
      expect(h2).toMatchObject({ layer: 'hidden_2', size: 110, zeros: 80, biasSize: 10, biasZeros: 0 });
      expect(out).toMatchObject({ layer: 'out', biasSize: 3, biasZeros: 0 });
      expect(unitZeroFraction(h1!)).toBe(0.8);
      expect(h2!.zeros / h2!.size).toBeCloseTo(80 / 110, 12); // ≥ 0.7: entries would call it dead
      expect(unitZeroFraction(h2!)).toBe(0);
    } finally {
      dispose();
    }
  });

  it('detectDyingRelu names the layer whose units died, not the one they feed', async () => {
    const { model, grads, dispose } = deadFirstLayer();
    try {
      const g = await gradientStats(grads, { model });
      const at = (step: number) => ({ ...g, step, preClipNorm: g.globalNorm, postClipNorm: g.globalNorm, scale: 1, skipped: false });
      const d = detectDyingRelu({ patience: 3 });
      expect(d.observe(at(0))).toEqual([]);
      expect(d.observe(at(1))).toEqual([]);
      const found = d.observe(at(2));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ problem: 'dying-relu', layer: 'hidden_1', evidence: { zeroFraction: 0.8, basis: 'units', layersAffected: 1 } });
      expect(found[0]!.message).toContain('80 % of layer "hidden_1"\'s units have passed no gradient');
    } finally {
      dispose();
    }
  });

  it('falls back to all gradient entries for a layer without a bias', () => {
    expect(unitZeroFraction({ size: 100, zeros: 75 })).toBe(0.75);
    expect(unitZeroFraction({ size: 100, zeros: 75, biasSize: 4, biasZeros: 1 })).toBe(0.25);
    expect(unitZeroFraction({ size: 0, zeros: 0 })).toBe(0);
  });

  it('leaves the tensor count unchanged', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const { model, grads, dispose } = deadFirstLayer();
      await gradientStats(grads, { model });
      dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
