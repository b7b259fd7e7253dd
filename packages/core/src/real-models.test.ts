import * as tf from '@tensorflow/tfjs';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectDyingRelu } from './detectors/detect-dying-relu';
import { detectGradientSpike } from './detectors/detect-gradient-spike';
import { detectLayerRatio } from './detectors/detect-layer-ratio';
import { detectLossDivergence } from './detectors/detect-loss-divergence';
import { detectVanishingGradient } from './detectors/detect-vanishing-gradient';
import { detectWeightGrowth } from './detectors/detect-weight-growth';
import { inspectModel } from './inspect-model';
import { createMonitor } from './monitor';
import type { Diagnosis } from './run-log/diagnosis';
import { train } from './test/train';

// Real models, tiny and seeded, trained with tf.variableGrads + a plain tfjs optimizer (core cannot use guard).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const alarms = (ds: readonly Diagnosis[]): string[] =>
  ds.filter((d) => d.severity !== 'info').map((d) => `${d.step} ${d.severity} ${d.detector}: ${d.message}`);

function mlp(opts: { depth: number; units: number; inputs: number; activation: 'relu' | 'sigmoid'; biasInit?: number }): tf.Sequential {
  const model = tf.sequential();
  for (let i = 0; i < opts.depth; i++) {
    model.add(
      tf.layers.dense({
        units: opts.units,
        ...(i === 0 ? { inputShape: [opts.inputs] } : {}),
        activation: opts.activation,
        name: `d${i}`,
        kernelInitializer: opts.activation === 'relu' ? tf.initializers.heNormal({ seed: i + 1 }) : tf.initializers.glorotUniform({ seed: i + 1 }),
        biasInitializer: opts.biasInit === undefined ? 'zeros' : tf.initializers.constant({ value: opts.biasInit }),
      }),
    );
  }
  model.add(tf.layers.dense({ units: 1, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 99 }) }));
  return model;
}

function regression(samples: number, inputs: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => {
    const xs = tf.randomUniform([samples, inputs], -1, 1, 'float32', seed);
    return { xs, ys: tf.sum(tf.sin(tf.mul(xs, 2)), 1, true) };
  });
}

describe('healthy training raises no warning or critical diagnosis with defaultDetectors()', () => {
  it('an LSTM on the adding problem, 300 steps of Adam, spectra tracked every 10 steps, no tensor leaked', async () => {
    const T = 6;
    const data = addingProblem({ sequenceLength: T, samples: 256, seed: 3 });
    const model = tf.sequential({
      layers: [
        tf.layers.lstm({ units: 4, inputShape: [T, 2], name: 'lstm', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }) }),
        tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const optimizer = tf.train.adam(0.01);
    const monitor = createMonitor();
    const run = { model, xs: data.xs, ys: data.ys, optimizer, batchSize: 16, monitor, stats: { recurrent: true, histogram: true } };
    // Adam creates its moment variables on the first step: take that one outside the leak check.
    const first = await train({ ...run, steps: 1 });
    const stats = [...first, ...(await expectNoLeak(() => train({ ...run, steps: 299, startStep: 1 })))];
    expect(stats).toHaveLength(300);
    expect(alarms(monitor.diagnoses)).toEqual([]);
    expect(stats[299]!.loss!).toBeLessThan(stats[0]!.loss!);
    expect(stats[290]!.recurrent!.map((r) => r.gate)).toEqual(['i', 'f', 'c', 'o']);
    expect(stats[290]!.layers[0]!.histogram!.reduce((a, b) => a + b, 0)).toBe(stats[290]!.layers[0]!.size);
    tf.dispose([data.xs, data.ys]);
    optimizer.dispose();
    model.dispose();
  });

  it('a 4-layer ReLU MLP on a smooth regression, 300 steps of Adam', async () => {
    const { xs, ys } = regression(512, 8, 5);
    const model = mlp({ depth: 3, units: 16, inputs: 8, activation: 'relu' });
    const monitor = createMonitor();
    const stats = await train({ model, xs, ys, optimizer: tf.train.adam(0.01), steps: 300, batchSize: 32, monitor });
    expect(alarms(monitor.diagnoses)).toEqual([]);
    expect(stats[299]!.loss!).toBeLessThan(stats[0]!.loss! / 10);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('real models that show the symptom', () => {
  it('the exploding SimpleRNN (gain 1.5, T = 50, SGD 0.1): r = 1.5 before training, critical at step 0, blamed on "rnn"', async () => {
    const data = addingProblem({ sequenceLength: 50, samples: 64, seed: 1 });
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5 });
    const report = await inspectModel(model);
    expect(Math.abs(report.recurrent[0]!.spectralRadius - 1.5)).toBeLessThan(1e-3);
    const [f] = report.findings.filter((x) => x.problem === 'recurrent-instability');
    expect(f).toMatchObject({ severity: 'warning', layer: 'rnn', evidence: { timeSteps: 50 } });
    expect(f!.message).toMatch(/spectral radius r = 1\.5 > 1: gradients through T = 50 steps can grow like r\^T = 6\.38e\+8/);
    const monitor = createMonitor();
    const stats = await train({ model, xs: data.xs, ys: data.ys, optimizer: tf.train.sgd(0.1), steps: 3, batchSize: 32, monitor, stats: { recurrent: true } });
    expect(stats[0]!.globalNorm).toBeGreaterThan(1e6);
    const at0 = monitor.diagnoses.filter((d) => d.step === 0);
    expect(at0.map((d) => [d.problem, d.severity, d.layer])).toEqual(
      expect.arrayContaining([
        ['exploding-gradient', 'critical', 'rnn'],
        ['recurrent-instability', 'critical', 'rnn'],
      ]),
    );
    expect(monitor.diagnoses.some((d) => d.problem === 'non-finite' && d.step === 1)).toBe(true);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('a 10-layer sigmoid MLP: AUTOTRAINER vanishing ratio, and inspectModel flags the deep unnormalized stack', async () => {
    const { xs, ys } = regression(256, 8, 7);
    const model = mlp({ depth: 10, units: 8, inputs: 8, activation: 'sigmoid' });
    const report = await inspectModel(model);
    expect(report.depthWithoutNormalization).toBe(11);
    expect(report.findings.find((x) => x.evidence.depth === 11)).toMatchObject({ problem: 'vanishing-gradient', severity: 'info' });
    const monitor = createMonitor({ detectors: [detectLayerRatio()] });
    const stats = await train({ model, xs, ys, optimizer: tf.train.sgd(0.01), steps: 5, batchSize: 32, monitor });
    const ratio = stats[4]!.layers[0]!.norm / stats[4]!.layers[10]!.norm;
    expect(ratio).toBeLessThan(1e-3);
    expect(monitor.diagnoses[0]).toMatchObject({ problem: 'vanishing-gradient', layer: 'd0', step: 2 });
    expect(monitor.diagnoses[0]!.evidence.ratio).toBeCloseTo(stats[2]!.layers[0]!.norm / stats[2]!.layers[10]!.norm, 10);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('a ReLU MLP whose biases start at -5: every unit dead, all-zero gradients flagged as dying ReLU and vanishing', async () => {
    const { xs, ys } = regression(256, 8, 9);
    const model = mlp({ depth: 3, units: 16, inputs: 8, activation: 'relu', biasInit: -5 });
    const monitor = createMonitor({ detectors: [detectDyingRelu(), detectVanishingGradient()] });
    const stats = await train({ model, xs, ys, optimizer: tf.train.adam(0.01), steps: 12, batchSize: 32, monitor });
    expect(stats[0]!.layers[1]!.zeros).toBe(stats[0]!.layers[1]!.size);
    const [dying, vanishing] = [monitor.diagnoses.find((d) => d.problem === 'dying-relu'), monitor.diagnoses.find((d) => d.problem === 'vanishing-gradient')];
    // The three hidden layers, not 'out': 16 of its 17 entries see only zero inputs, but its bias gradient (the error
    // itself) is not zero — its one unit is alive; the dead units are upstream.
    expect(dying).toMatchObject({ step: 9, severity: 'warning', evidence: { zeroFraction: 1, basis: 'units', layersAffected: 3 } });
    expect(stats[0]!.layers.map((l) => [l.layer, l.biasZeros, l.biasSize])).toEqual([['d0', 16, 16], ['d1', 16, 16], ['d2', 16, 16], ['out', 0, 1]]);
    expect(vanishing).toMatchObject({ step: 9, layer: 'd0', evidence: { layerNorm: 0 } });
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('linear regression with a learning rate past 2/λmax: loss divergence and weight growth', async () => {
    const { xs, ys } = regression(256, 8, 11);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [8], name: 'lin', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    const monitor = createMonitor({ detectors: [detectLossDivergence(), detectWeightGrowth()] });
    const stats = await train({ model, xs, ys, optimizer: tf.train.sgd(4), steps: 40, batchSize: 64, monitor });
    expect(stats[39]!.loss!).toBeGreaterThan(stats[0]!.loss! * 100);
    const loss = monitor.diagnoses.find((d) => d.problem === 'loss-divergence')!;
    const growth = monitor.diagnoses.find((d) => d.problem === 'weight-growth')!;
    expect(loss.severity).toBe('critical');
    expect(growth).toMatchObject({ layer: 'lin' });
    expect(growth.evidence.growth).toBeGreaterThanOrEqual(10);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('input bursts ×30 from step 100 in a healthy MLP: a spike warning at step 100, blamed on a layer', async () => {
    const { xs, ys } = regression(512, 8, 5);
    const model = mlp({ depth: 3, units: 16, inputs: 8, activation: 'relu' });
    const monitor = createMonitor({ detectors: [detectGradientSpike()] });
    const burst = (s: number): number => (s >= 100 && s % 5 === 0 ? 30 : 1);
    await train({ model, xs, ys, optimizer: tf.train.adam(0.001), steps: 130, batchSize: 32, monitor, inputScale: burst });
    const spikes = monitor.diagnoses.filter((d) => d.problem === 'gradient-spike');
    const warning = spikes.find((d) => d.severity === 'warning')!;
    expect(warning.step).toBe(100);
    expect(warning.evidence.z as number).toBeGreaterThan(10);
    expect(warning.layer).toMatch(/^(d0|d1|d2|out)$/);
    expect(spikes.filter((d) => d.step < 100).every((d) => d.severity === 'info')).toBe(true);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
