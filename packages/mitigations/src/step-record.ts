import * as tf from '@tensorflow/tfjs-core';
import type { MeasuredGradients, Monitor, PendingSpectra, ReadValues, StepStatistics } from '@gradguard/core';
import type { NamedTensor } from './guard-types';
import type { TensorMap } from './transformation';

/** What a measured step leaves for `settle`, besides its read-back values. */
export interface Pending {
  readonly step: number;
  readonly measured: MeasuredGradients;
  readonly spectra: PendingSpectra | undefined;
  /** Σ of the transformed gradients' squares, known on the host; 'read' when registered in the readback; none: unchanged. */
  readonly post: number | 'read' | undefined;
  /** Decided on the host; 'read' when the device mask was registered. */
  readonly applied: boolean | 'read';
  readonly probes: readonly string[];
  readonly learningRate: number | undefined;
}

/** Measured steps that always measure the weights: the first steps set each layer's baseline for the growth rule. */
const WEIGHTS_FROM_START = 10;

/**
 * Whether the measured step at `index` (its count among measured steps) measures the weights too: the first
 * WEIGHTS_FROM_START, every `every`-th, the one after a step whose gradients or loss were not finite (are the weights
 * still finite?), and every one while a critical problem is active (a warning — a norm sustained above 10, a
 * spike — keeps the cadence: deep nets train for thousands of steps with those, and the weight rule still sees them).
 */
export function weightsDue(index: number, every: number, last: StepStatistics | undefined, monitor: Monitor | undefined): boolean {
  if (index < WEIGHTS_FROM_START || index % every === 0) return true;
  if (last && (last.nonFinite > 0 || (last.loss !== undefined && !Number.isFinite(last.loss)))) return true;
  return monitor !== undefined && monitor.active.some((d) => d.severity === 'critical');
}

/** A measured step's statistics from its read-back values: each participant's values under its own key. */
export function readStep(p: Pending, values: ReadValues): { stats: StepStatistics; probes: Record<string, number>; loss: number | undefined; applied: boolean } {
  const g = p.measured.decode(values);
  const one = (key: string): number | undefined => values.get(key)?.[0];
  const loss = one('loss');
  const applied = p.applied === 'read' ? one('applied') === 1 : p.applied;
  const probes: Record<string, number> = {};
  for (const k of p.probes) probes[k] = one(`probe:${k}`)!;
  const pre = g.globalNorm;
  const postSq = p.post === 'read' ? one('post') : p.post;
  const post = !applied ? 0 : postSq === undefined ? pre : Math.sqrt(postSq);
  const scale = postSq === undefined && applied ? 1 : pre === 0 ? 1 : Number.isFinite(pre) ? post / pre : post === 0 ? 0 : Number.NaN;
  const recurrent = p.spectra ? p.spectra.decode(values.get('recurrent')!) : undefined;
  const stats: StepStatistics = {
    ...g,
    step: p.step,
    ...(loss !== undefined ? { loss } : {}),
    preClipNorm: pre,
    postClipNorm: post,
    scale,
    skipped: !applied,
    ...(recurrent ? { recurrent } : {}),
    ...(p.learningRate !== undefined ? { learningRate: p.learningRate } : {}),
  };
  return { stats, probes, loss, applied };
}

export function toMap(grads: tf.NamedTensorMap | NamedTensor[]): TensorMap {
  if (!Array.isArray(grads)) return grads;
  const map: TensorMap = {};
  for (const { name, tensor } of grads) map[name] = tensor;
  return map;
}

/** The live variables behind a gradient map (tfjs registers every variable with the engine by name). */
export function variablesOf(grads: TensorMap): TensorMap {
  const registered = tf.engine().registeredVariables;
  const params: TensorMap = {};
  for (const name of Object.keys(grads)) {
    const v = registered[name];
    if (v) params[name] = v;
  }
  return params;
}

