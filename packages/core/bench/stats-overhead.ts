// Cost of gradguard's per-step statistics as a share of a plain training step, in one process.
//   npx tsx bench/stats-overhead.ts [cpu|wasm] [steps]
// Model: 20 × Dense(64, relu) + Dense(1) (84k parameters, 42 variables), batch 32, MSE, SGD, driven by
// tf.variableGrads + optimizer.applyGradients. Every variant reads back once per step (the baseline reads the loss).
// Variants run interleaved, one step each in turn, so drift in machine load hits all of them alike.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { gradientStatsOnDevice, type GradientStatsOptions } from '../src/gradient-stats';
import { mapVariablesToLayers } from '../src/layer-map';

const backend = process.argv[2] ?? 'wasm';
const steps = Number(process.argv[3] ?? 150);
const warmup = 20;

/** The statistics as first written: ten ops per variable (square, sum, abs, max, isFinite, cast, sum, equal, cast, sum). */
function legacyStats(grads: tf.NamedTensorMap, loss: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    const zero = tf.scalar(0);
    for (const g of Object.values(grads)) {
      parts.push(
        tf.sum(tf.square(g)),
        tf.max(tf.abs(g)),
        tf.sum(tf.cast(tf.isFinite(g), 'float32')),
        tf.sum(tf.cast(tf.equal(g, zero), 'float32')),
      );
    }
    parts.push(tf.reshape(loss, []));
    return tf.stack(parts);
  });
}

async function main(): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tf.sequential();
  for (let i = 0; i < 20; i++) model.add(tf.layers.dense({ units: 64, activation: 'relu', ...(i === 0 ? { inputShape: [64] } : {}) }));
  model.add(tf.layers.dense({ units: 1 }));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const layerMap = mapVariablesToLayers(model);
  const xs = tf.randomNormal([32, 64], 0, 1, 'float32', 1);
  const ys = tf.randomNormal([32, 1], 0, 1, 'float32', 2);
  const optimizer = tf.train.sgd(1e-4);
  const grad = () =>
    tf.variableGrads(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar, vars);

  type Variant = { name: string; step: (i: number) => Promise<void> };
  const withStats = (name: string, opts: Omit<GradientStatsOptions, 'model' | 'step'>): Variant => ({
    name,
    step: async (i) => {
      const { value, grads } = grad();
      const p = gradientStatsOnDevice(grads, { ...opts, model: layerMap, step: i, extra: [value] });
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      const v = await p.tensor.data();
      p.tensor.dispose();
      p.decode(v);
    },
  });
  const variants: Variant[] = [
    {
      name: 'plain step (loss read back)',
      step: async () => {
        const { value, grads } = grad();
        optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
        await value.data();
        value.dispose();
      },
    },
    {
      name: 'legacy stats, 10 ops/variable',
      step: async () => {
        const { value, grads } = grad();
        const t = legacyStats(grads, value);
        optimizer.applyGradients(grads);
        tf.dispose([value, ...Object.values(grads)]);
        await t.data();
        t.dispose();
      },
    },
    withStats('gradient stats only (weights: false)', { weights: false }),
    withStats('default: gradient + weight norms', {}),
    withStats('+ histograms every step', { histogram: true }),
    withStats('+ histograms, detailEvery 10', { histogram: true, detailEvery: 10 }),
  ];
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < warmup + steps; i++) {
    for (let v = 0; v < variants.length; v++) {
      const t0 = performance.now();
      await variants[v]!.step(i);
      if (i >= warmup) times[v]!.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times[0]!);
  const { grads, value } = grad();
  const kernels = async (f: () => tf.Tensor): Promise<number> => {
    const info = await tf.profile(() => f());
    (info.result as tf.Tensor).dispose();
    return info.kernels.length;
  };
  const legacyKernels = await kernels(() => legacyStats(grads, value));
  const newKernels = await kernels(() => gradientStatsOnDevice(grads, { model: layerMap, extra: [value], weights: false }).tensor);
  const defaultKernels = await kernels(() => gradientStatsOnDevice(grads, { model: layerMap, extra: [value] }).tensor);
  tf.dispose([value, ...Object.values(grads)]);
  console.log(`backend ${tf.getBackend()}, ${vars.length} variables, ${steps} steps per variant (median ms)`);
  for (let v = 0; v < variants.length; v++) {
    const m = median(times[v]!);
    const overhead = v === 0 ? '' : `  overhead ${((m / base - 1) * 100).toFixed(1)} %`;
    console.log(`${variants[v]!.name.padEnd(40)} ${m.toFixed(2).padStart(7)} ms  ratio ${(m / base).toFixed(3)}${overhead}`);
  }
  console.log(`kernels per step: legacy ${legacyKernels}, new ${newKernels} (weights: false), ${defaultKernels} (default)`);
  console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
}

void main();
