import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { measureKernels, measureKernelsNow } from '../kernel-facts';
import { describeLayers, mapVariablesToLayers } from '../layer-map';
import { createMonitor } from '../monitor';
import { makeStep } from '../test/streams';
import { detectInitialization } from './detect-initialization';

/** The Machine Learning Mastery vanishing-gradient model: Dense(5, tanh) × 5 on 2 inputs, a sigmoid output, all U(0, 1). */
function deepTanh(seed: number, init: (s: number) => ReturnType<typeof tf.initializers.glorotUniform>): tf.Sequential {
  return tf.sequential({
    layers: [
      ...Array.from({ length: 5 }, (_, i) =>
        tf.layers.dense({ units: 5, activation: 'tanh', name: `dense_${i + 1}`, kernelInitializer: init(seed * 10 + i), ...(i === 0 ? { inputShape: [2] } : {}) }),
      ),
      tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out', kernelInitializer: init(seed * 10 + 9) }),
    ],
  });
}
const uniform01 = (seed: number) => tf.initializers.randomUniform({ minval: 0, maxval: 1, seed });

describe('measureKernels', () => {
  it('summarizes each kernel: size, fan-in, mean, RMS (hand-computed)', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'd' }), tf.layers.dense({ units: 1, name: 'e' })] });
    const [k1, k2] = [tf.tensor2d([[1, 2], [3, -2]]), tf.tensor2d([[-1], [-3]])];
    model.layers[0]!.weights[0]!.write(k1);
    model.layers[1]!.weights[0]!.write(k2);
    tf.dispose([k1, k2]);
    const before = tf.memory().numTensors;
    const facts = await measureKernels(mapVariablesToLayers(model));
    expect(tf.memory().numTensors).toBe(before);
    // Read in place on cpu, the same numbers.
    expect(measureKernelsNow(mapVariablesToLayers(model))).toEqual(facts);
    expect([...facts]).toEqual([
      ['d', { size: 4, fanIn: 2, mean: 1, rms: Math.sqrt((1 + 4 + 9 + 4) / 4) }],
      ['e', { size: 2, fanIn: 2, mean: -2, rms: Math.sqrt((1 + 9) / 2) }],
    ]);
    model.dispose();
  });
});

describe('detectInitialization: weights that start with one sign', () => {
  it('flags the U(0, 1) deep tanh MLP (seeds 1–3): vanishing-gradient on dense_2…dense_5, from the first step', async () => {
    for (const seed of [1, 2, 3]) {
      const model = deepTanh(seed, uniform01);
      const map = mapVariablesToLayers(model);
      const monitor = createMonitor({ detectors: [detectInitialization()] });
      monitor.describeModel!(describeLayers(map, await measureKernels(map)));
      const found = monitor.observe(makeStep(0, [{ layer: 'dense_1', norm: 0.5 }]));
      expect(found).toHaveLength(1);
      const d = found[0]!;
      // dense_1 (10 entries) and out (5) are too small to judge; the four 5 × 5 kernels are U(0, 1): mean ≈ 0.5, RMS ≈ 0.58.
      expect(d).toMatchObject({ problem: 'vanishing-gradient', severity: 'warning', phase: 'onset', step: 0, layer: 'dense_2', evidence: { layers: 4, firstLayer: 'dense_2', lastLayer: 'dense_5', saturating: 4 } });
      expect(d.evidence.meanToRms as number).toBeGreaterThan(0.75);
      expect(d.evidence.meanTimesFanIn as number).toBeGreaterThan(2); // ≈ 0.5 × 5
      expect(d.message).toMatch(/^Layers "dense_2" to "dense_5" \(4\) start with weights of one sign: .* the tanh units saturate together and the gradient through them vanishes\. Use a zero-mean initializer/);
      expect(d.advice[0]!.remedy).toBe('betterInitialization');
      // It describes how the run started: still active later, no recovery.
      for (let i = 1; i < 40; i++) monitor.observe(makeStep(i, [{ layer: 'dense_1', norm: 0.5 }]));
      expect(monitor.diagnoses).toHaveLength(1);
      expect(monitor.active.map((x) => x.problem)).toEqual(['vanishing-gradient']);
      model.dispose();
    }
  });

  it('stays quiet on zero-mean initializers: 60 models of 16–2048-entry kernels (glorot, he, lecun, orthogonal, normal)', async () => {
    const inits = [
      (s: number) => tf.initializers.glorotUniform({ seed: s }),
      (s: number) => tf.initializers.heNormal({ seed: s }),
      (s: number) => tf.initializers.leCunUniform({ seed: s }),
      (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: s }),
      (s: number) => tf.initializers.orthogonal({ seed: s }),
    ];
    let judged = 0;
    for (let seed = 1; seed <= 12; seed++) {
      for (const init of inits) {
        const widths = [4, 8, 16, 32, 64].slice(0, 2 + (seed % 4));
        const model = tf.sequential({
          layers: widths.map((units, i) => tf.layers.dense({ units, activation: i % 2 ? 'relu' : 'tanh', kernelInitializer: init(seed * 100 + i), ...(i === 0 ? { inputShape: [4] } : {}) })),
        });
        const map = mapVariablesToLayers(model);
        const layers = describeLayers(map, await measureKernels(map));
        judged += layers.filter((l) => l.kernel!.size >= 16).length;
        const d = detectInitialization();
        d.describeModel!(layers);
        expect(d.observe(makeStep(0, [])), `seed ${seed}`).toEqual([]);
        model.dispose();
      }
    }
    expect(judged).toBeGreaterThan(150);
  });

  it('names exploding for ReLU stacks, judges nothing without kernel facts, and checks its options', () => {
    const relu = (name: string) => ({ name, className: 'Dense', activation: 'relu', kernel: { size: 64, fanIn: 8, mean: 1, rms: 1 } });
    const d = detectInitialization();
    d.describeModel!([relu('a'), relu('b')]);
    const [f] = d.observe(makeStep(0, []));
    expect(f).toMatchObject({ problem: 'exploding-gradient', layer: 'a', evidence: { layers: 2, meanToRms: 1, meanTimesFanIn: 8, saturating: 0 } });
    expect(f!.message).toContain('grows by up to mean × fan-in = 8× per layer: activations and gradients grow with depth.');
    d.describeModel!([{ name: 'a', className: 'Dense', activation: 'relu' }]);
    expect(d.observe(makeStep(1, []))).toEqual([]);
    expect(() => detectInitialization({ meanShare: 0 })).toThrow('meanShare must be a number > 0 <= 1, got 0');
  });
});
