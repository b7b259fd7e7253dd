import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from './inspect-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('inspectModel', () => {
  it('measures each GRU gate, reports LSTM/GRU radius > 1 as info and a contracting SimpleRNN over long T as vanishing', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 4, inputShape: [40, 2], returnSequences: true, name: 'slow', recurrentInitializer: tf.initializers.orthogonal({ gain: 0.5, seed: 1 }) }),
        tf.layers.gru({ units: 3, name: 'gru', recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 2 }) }),
        tf.layers.dense({ units: 1, name: 'head' }),
      ],
    });
    const report = await expectNoLeak(() => inspectModel(model));
    expect(report.recurrent.map((r) => `${r.layer}:${r.gate}`)).toEqual(['slow:all', 'gru:z', 'gru:r', 'gru:h']);
    expect(Math.abs(report.recurrent[0]!.spectralRadius - 0.5)).toBeLessThan(1e-3);
    const slow = report.findings.find((f) => f.layer === 'slow')!;
    expect(slow).toMatchObject({ problem: 'vanishing-gradient', severity: 'info' });
    expect(slow.message).toContain('r = 0.5 < 1: gradients through T = 40 steps can shrink like r^T = 9.09e-13');
    // orthogonal [3, 9] × 1.5 leaves every gate block below radius 1 here: nothing to say about the GRU yet.
    expect(Math.max(...report.recurrent.slice(1).map((r) => r.spectralRadius))).toBeLessThan(1);
    expect(report.findings.find((f) => f.layer === 'gru')).toBeUndefined();
    // Give gate z radius 1.3: reported, as info only (the gates usually contain it).
    const gru = model.getLayer('gru');
    const [k, , b] = gru.getWeights();
    const known = tf.tidy(() => tf.concat([tf.diag(tf.tensor1d([1.3, 0.2, 0.1])), tf.diag(tf.tensor1d([0.5, 0.5, 0.5])), tf.diag(tf.tensor1d([0.2, 0.2, 0.2]))], 1));
    gru.setWeights([k!, known, b!]);
    known.dispose();
    const again = await inspectModel(model);
    expect(again.findings.find((f) => f.layer === 'gru')).toMatchObject({ problem: 'recurrent-instability', severity: 'info', evidence: { gate: 'z' } });
    expect(again.findings.find((f) => f.layer === 'gru')!.evidence.spectralRadius as number).toBeCloseTo(1.3, 3);
    expect(report.diagnoses.every((d) => d.detector === 'inspectModel' && d.step === 0 && d.phase === 'onset')).toBe(true);
    model.dispose();
  });

  it('flags a large initial weight scale, RMS·√fan-in against He', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 64, inputShape: [64], name: 'big', kernelInitializer: tf.initializers.constant({ value: 1 }) }),
        tf.layers.dense({ units: 1, name: 'ok', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
      ],
    });
    const report = await inspectModel(model);
    // ones: RMS 1, fan-in 64 → gain 8.
    expect(report.initialGains.find((g) => g.layer === 'big')!.gain).toBeCloseTo(8, 5);
    expect(report.initialGains.find((g) => g.layer === 'ok')!.gain).toBeLessThan(2.5);
    const [f] = report.findings.filter((x) => x.evidence.initialGain !== undefined);
    expect(f).toMatchObject({ problem: 'exploding-gradient', severity: 'warning', layer: 'big' });
    expect(f!.message).toContain('RMS·√fan-in = 8, 5.657× He');
    model.dispose();
  });

  it('counts weighted layers between normalization layers; a BatchNormalization breaks the run', async () => {
    const deep = (norm: boolean): tf.Sequential => {
      const m = tf.sequential();
      for (let i = 0; i < 12; i++) {
        m.add(tf.layers.dense({ units: 4, activation: 'relu', ...(i === 0 ? { inputShape: [4] } : {}) }));
        if (norm && i === 5) m.add(tf.layers.batchNormalization());
      }
      return m;
    };
    const plain = deep(false);
    const normed = deep(true);
    const a = await inspectModel(plain);
    const b = await inspectModel(normed);
    expect(a.depthWithoutNormalization).toBe(12);
    expect(a.findings.find((f) => f.evidence.depth === 12)).toMatchObject({ problem: 'exploding-gradient', severity: 'info' });
    expect(b.depthWithoutNormalization).toBe(6);
    expect(b.findings).toEqual([]);
    plain.dispose();
    normed.dispose();
  });

  it('rejects what is not a model', async () => {
    await expect(inspectModel({} as never)).rejects.toThrow(/inspectModel: expected a tfjs LayersModel/);
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await expect(inspectModel(m, { maxInitialGain: 0 })).rejects.toThrow('maxInitialGain must be a number > 0, got 0');
    m.dispose();
  });
});

describe('inspectModel: initial scales that compound through a deep stack', () => {
  /** A 10-layer ReLU MLP (width 32) whose kernels start at `factor` × He scale, and the first step's gradient norm. */
  async function deepMlp(factor: number) {
    const model = tf.sequential();
    for (let i = 0; i < 10; i++) {
      const fanIn = i === 0 ? 16 : 32;
      model.add(tf.layers.dense({
        units: 32, activation: 'relu', ...(i === 0 ? { inputShape: [16] } : {}), name: `d${i}`,
        kernelInitializer: tf.initializers.randomNormal({ stddev: factor * Math.sqrt(2 / fanIn), seed: 10 + i }),
      }));
    }
    model.add(tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.heNormal({ seed: 99 }) }));
    const x = tf.randomNormal([64, 16], 0, 1, 'float32', 1);
    const y = tf.randomNormal([64, 1], 0, 1, 'float32', 2);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads, value } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, vars);
    const norm = Math.sqrt(Object.values(grads).reduce((a, g) => a + (tf.sum(tf.square(g)).dataSync()[0] ?? 0), 0));
    tf.dispose([x, y, value, ...Object.values(grads)]);
    return { model, norm };
  }

  it('ten layers at 2.27× He each (none over the per-layer bound) are flagged together; the first gradient is huge', async () => {
    const { model, norm } = await deepMlp(2.27);
    const report = await inspectModel(model);
    expect(report.initialGains.every((g) => g.gain < 4)).toBe(true); // the per-layer rule alone says nothing
    const [f] = report.findings.filter((x) => x.evidence.compoundGain !== undefined);
    expect(f).toMatchObject({ problem: 'exploding-gradient', severity: 'warning', layer: 'd0' });
    expect(f!.evidence.compoundGain as number).toBeGreaterThan(1e3); // ≈ 2.27^10 = 3.6e3, up to sampling
    expect(f!.message).toMatch(/Layers "d0" to "d9" \(10\) each start at .*× He initialization: together they scale/);
    expect(norm).toBeGreaterThan(1e3); // ground truth: the gradient really is thousands of times too large
    model.dispose();
  });

  it('the same stack at He scale is not flagged, and its first gradient is ordinary', async () => {
    const { model, norm } = await deepMlp(1);
    const report = await inspectModel(model);
    expect(report.findings.filter((x) => x.evidence.compoundGain !== undefined)).toEqual([]);
    expect(norm).toBeLessThan(100);
    model.dispose();
  });
});

describe('inspectModel: kernels that start with one sign (gradguard doctor)', () => {
  it('flags five Dense(5, tanh) at U(0, 1) as vanishing (warning), not the same stack at glorot; no tensor left', async () => {
    const stack = (init: (seed: number) => ReturnType<typeof tf.initializers.glorotUniform>) =>
      tf.sequential({
        layers: [
          ...Array.from({ length: 5 }, (_, i) => tf.layers.dense({ units: 5, activation: 'tanh', name: `h${i}`, kernelInitializer: init(i + 1), ...(i === 0 ? { inputShape: [2] } : {}) })),
          tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' }),
        ],
      });
    const uniform = stack((seed) => tf.initializers.randomUniform({ minval: 0, maxval: 1, seed }));
    const glorot = stack((seed) => tf.initializers.glorotUniform({ seed }));
    const before = tf.memory().numTensors;
    const bad = await inspectModel(uniform);
    const good = await inspectModel(glorot);
    expect(tf.memory().numTensors).toBe(before);
    const f = bad.diagnoses.find((d) => d.problem === 'vanishing-gradient' && d.severity === 'warning')!;
    // h0 has 10 entries (too few to judge); h1–h4 are 5 × 5 = 25 entries each.
    expect(f).toMatchObject({ detector: 'inspectModel', step: 0, layer: 'h1', evidence: { layers: 4, firstLayer: 'h1', lastLayer: 'h4', saturating: 4 } });
    expect(f.message).toContain('start with weights of one sign');
    expect(good.diagnoses.filter((d) => d.severity !== 'info')).toEqual([]);
    uniform.dispose();
    glorot.dispose();
  });
});
