import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import { train } from './test/train';

// A real, long, healthy run: a 4×32 ReLU MLP learning a smooth regression with plain SGD for 3,000 steps. Its
// gradient norm sits around the bound of 1 and spikes mildly (info level) every few dozen steps all run long.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

describe('a long healthy run gives a handful of diagnoses, not a stream of onsets and recoveries', () => {
  it('3,000 steps of SGD on an MLP: hundreds of entries without hysteresis, at most 8 with the defaults', async () => {
    const inputs = 8;
    const model = tf.sequential();
    for (let i = 0; i < 4; i++) {
      model.add(
        tf.layers.dense({
          units: 32,
          activation: 'relu',
          name: `d${i}`,
          ...(i === 0 ? { inputShape: [inputs] } : {}),
          kernelInitializer: tf.initializers.heNormal({ seed: i + 1 }),
        }),
      );
    }
    model.add(tf.layers.dense({ units: 1, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 99 }) }));
    const xs = tf.randomUniform([2048, inputs], -1, 1, 'float32', 7);
    const ys = tf.tidy(() => tf.sum(tf.sin(tf.mul(xs, 2)), 1, true));
    const monitor = createMonitor();
    const steps = await train({ model, xs, ys, optimizer: tf.train.sgd(0.01), steps: 3000, batchSize: 32, monitor });
    tf.dispose([xs, ys]);
    model.dispose();

    // The same statistics through a monitor without the damping (a fixed 10-step recovery window, as before).
    const flapping = createMonitor({ recoveryPatience: 10, maxRecoveryPatience: 10 });
    for (const s of steps) flapping.observe(s);

    expect(flapping.diagnoses.length).toBeGreaterThan(150);
    expect(monitor.diagnoses.length).toBeLessThanOrEqual(8);
    expect(monitor.diagnoses.every((d) => d.severity === 'info')).toBe(true);
    // Still the same problems, each reported at its first onset.
    const problems = (ds: typeof monitor.diagnoses) => [...new Set(ds.map((d) => d.problem))].sort();
    expect(problems(monitor.diagnoses)).toEqual(problems(flapping.diagnoses));
    const firstOnset = (ds: typeof monitor.diagnoses, p: string) => ds.find((d) => d.problem === p && d.phase === 'onset')?.step;
    for (const p of problems(monitor.diagnoses)) expect(firstOnset(monitor.diagnoses, p)).toBe(firstOnset(flapping.diagnoses, p));
  }, 120_000);
});
