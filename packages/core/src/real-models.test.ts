import * as tf from '@tensorflow/tfjs';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import { inspectModel } from './inspect-model';
import { train } from './test/train';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('probe', () => {
  it('healthy lstm', async () => {
    const T = 10;
    const data = addingProblem({ sequenceLength: T, samples: 256, seed: 3 });
    const model = tf.sequential({ layers: [tf.layers.lstm({ units: 8, inputShape: [T, 2], name: 'lstm', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }) }), tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
    const monitor = createMonitor();
    const t0 = Date.now();
    const stats = await train({ model, xs: data.xs, ys: data.ys, optimizer: tf.train.adam(0.01), steps: 300, batchSize: 16, monitor, stats: { recurrent: true, detailEvery: 10 } });
    console.log('lstm ms', Date.now() - t0, stats.filter((_, i) => i % 30 === 0).map((s) => [s.loss!.toFixed(3), s.globalNorm.toFixed(3), s.layers.map((l) => l.norm.toExponential(1)).join('/')].join(' ')));
    console.log(monitor.diagnoses.map((d) => `${d.step} ${d.severity} ${d.problem} ${d.message}`));
    console.log((await inspectModel(model)).findings.map((f) => f.message));
  });
  it('healthy mlp', async () => {
    const xs = tf.randomUniform([512, 8], -1, 1, 'float32', 5);
    const ys = tf.sum(tf.sin(xs.mul(2)), 1, true);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 16, inputShape: [8], activation: 'relu', name: 'd1', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }), tf.layers.dense({ units: 16, activation: 'relu', name: 'd2', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }), tf.layers.dense({ units: 16, activation: 'relu', name: 'd3', kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }), tf.layers.dense({ units: 1, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })] });
    const monitor = createMonitor();
    const t0 = Date.now();
    const stats = await train({ model, xs, ys, optimizer: tf.train.adam(0.01), steps: 300, batchSize: 32, monitor });
    console.log('mlp ms', Date.now() - t0, stats.filter((_, i) => i % 30 === 0).map((s) => [s.loss!.toFixed(3), s.globalNorm.toFixed(3), s.layers.map((l) => `${l.norm.toExponential(1)}:${(l.zeros / l.size).toFixed(2)}`).join('/')].join(' ')));
    console.log(monitor.diagnoses.map((d) => `${d.step} ${d.severity} ${d.problem} ${d.message}`));
  });
  it('exploding rnn', async () => {
    const data = addingProblem({ sequenceLength: 50, samples: 64, seed: 1 });
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5 });
    console.log((await inspectModel(model)).findings.map((f) => f.message));
    const monitor = createMonitor();
    const stats = await train({ model, xs: data.xs, ys: data.ys, optimizer: tf.train.sgd(0.1), steps: 6, batchSize: 32, monitor, stats: { recurrent: true } });
    console.log(stats.map((s) => [s.loss, s.globalNorm, s.layers.map((l) => l.norm.toExponential(1)).join('/'), s.weightNorm].join(' ')));
    console.log(monitor.diagnoses.map((d) => `${d.step} ${d.severity} ${d.problem} ${d.layer} ${d.message} ${JSON.stringify(d.evidence)}`));
  });
});
