import * as tf from '@tensorflow/tfjs-core';
import type { MeasuredGradients, PendingSpectra, ReadValues, StepReadback, StepReplay, StepStatistics } from '@gradguard/core';
import type { NamedTensor } from './guard-types';
import type { StepContext, TensorMap } from './transformation';

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
  /** The replay of a non-finite step on another backend, when one was made (`replayNonFiniteOn`). */
  readonly replay?: StepReplay;
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
    ...(p.replay ? { replay: p.replay } : {}),
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


/**
 * Σ of the transformed gradients' squares for the step record: from the facts the stages derived (host), else one sum
 * on the device registered in the readback ('read'); undefined when nothing was transformed.
 */
export function postNormSq(out: TensorMap, grads: TensorMap, context: StepContext, readback: StepReadback): Pending['post'] {
  if (out === grads) return undefined;
  const outs = Object.values(out);
  if (outs.every((g) => context.facts(g) !== undefined)) return outs.reduce((sq, g) => sq + context.facts(g)!.sq, 0);
  readback.add('post', tf.tidy(() => (outs.length === 0 ? tf.scalar(0) : tf.addN(outs.map((g) => tf.sum(tf.square(g)))))));
  return 'read';
}

/** Registers the step's own values in its readback — the loss, the device skip mask, the transform's probes. */
export function registerStepValues(readback: StepReadback, loss: tf.Scalar | undefined, mask: tf.Tensor | boolean | undefined, probes: Record<string, number | tf.Tensor>): void {
  if (loss) readback.borrow('loss', loss); // read (host) or concatenated (device), within this step
  if (typeof mask === 'object') readback.add('applied', tf.cast(mask, 'float32'));
  for (const [k, v] of Object.entries(probes)) {
    if (typeof v === 'number') readback.set(`probe:${k}`, [v]);
    else readback.borrow(`probe:${k}`, v);
  }
}
