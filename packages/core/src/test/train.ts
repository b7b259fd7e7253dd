// Test-only: drives a real tfjs model with tf.variableGrads + a plain optimizer and feeds each step's statistics to a
// monitor, the way `guard` does, without depending on @gradguard/mitigations (which depends on core).
import * as tf from '@tensorflow/tfjs';
import { createGradientMeter, type GradientStatsOptions } from '../gradient-stats';
import { createReadback } from '../readback';
import { recurrentSpectraOnDevice } from '../spectral-radius';
import { describeLayers, mapVariablesToLayers } from '../layer-map';
import type { Monitor } from '../monitor';
import type { StepStatistics } from '../run-log/statistics';

export interface TrainOptions {
  readonly model: tf.LayersModel;
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
  readonly optimizer: tf.Optimizer;
  readonly steps: number;
  /** Number of the first step (to continue a run). Default 0. */
  readonly startStep?: number;
  readonly batchSize: number;
  readonly monitor?: Monitor;
  readonly stats?: Omit<GradientStatsOptions, 'model'> & { readonly recurrent?: boolean };
  readonly loss?: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar;
  /** Scales the inputs of one step (to inject a spike). */
  readonly inputScale?: (step: number) => number;
}

export async function train(o: TrainOptions): Promise<StepStatistics[]> {
  const layerMap = mapVariablesToLayers(o.model);
  o.monitor?.describeModel?.(describeLayers(layerMap)); // as guard does when it learns the model
  const { recurrent, ...statsOptions } = o.stats ?? {};
  const meter = createGradientMeter({ ...statsOptions, model: layerMap });
  const vars = o.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const n = o.xs.shape[0]!;
  const lossFn = o.loss ?? ((y: tf.Tensor, p: tf.Tensor) => tf.losses.meanSquaredError(y, p) as tf.Scalar);
  const out: StepStatistics[] = [];
  for (let step = o.startStep ?? 0; step < (o.startStep ?? 0) + o.steps; step++) {
    const start = (step * o.batchSize) % Math.max(1, n - o.batchSize + 1);
    const scale = o.inputScale?.(step) ?? 1;
    const { value, grads } = tf.tidy(() => {
      const x = tf.mul(o.xs.slice(start, o.batchSize), scale);
      const y = o.ys.slice(start, o.batchSize);
      return tf.variableGrads(() => lossFn(y, o.model.apply(x, { training: true }) as tf.Tensor), vars);
    });
    // The step's values by name, in one readback: statistics (weights before the update), loss, recurrent spectra.
    const readback = createReadback();
    const measured = meter.measure(grads, readback);
    readback.add('loss', value);
    const spectra = recurrent ? recurrentSpectraOnDevice(layerMap) : undefined;
    if (spectra) readback.add('recurrent', spectra.tensor);
    const read = readback.read();
    o.optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    const values = await read;
    const g = measured.decode(values);
    const s: StepStatistics = {
      ...g,
      step,
      loss: values.get('loss')![0]!,
      ...(spectra ? { recurrent: spectra.decode(values.get('recurrent')!) } : {}),
      preClipNorm: g.globalNorm,
      postClipNorm: g.globalNorm,
      scale: 1,
      skipped: false,
    };
    out.push(s);
    o.monitor?.observe(s);
  }
  return out;
}
