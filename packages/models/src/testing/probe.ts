// Test-only probes (not exported from the package): they measure gradients and activations directly with tfjs, so the
// scenario tests do not depend on @gradguard/core, which sits above this package.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Task, TaskData } from '../task';

/** The task's training loss, written out so a probe can differentiate it with tf.variableGrads. */
export function taskLoss(task: Task, predictions: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy((): tf.Tensor => {
    const eps = 1e-7;
    if (task.loss === 'meanSquaredError') return tf.mean(tf.squaredDifference(predictions, targets));
    const p = tf.clipByValue(predictions, eps, 1 - eps);
    if (task.loss === 'binaryCrossentropy') {
      return tf.neg(tf.mean(tf.add(tf.mul(targets, tf.log(p)), tf.mul(tf.sub(1, targets), tf.log(tf.sub(1, p))))));
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.log(p)), -1)));
  }) as tf.Scalar;
}

export interface GradientProbe {
  readonly loss: number;
  /** Global L2 norm over every trainable variable. */
  readonly global: number;
  /** L2 norm per layer that has trainable weights, in model order. */
  readonly layers: readonly { readonly layer: string; readonly norm: number }[];
}

/** Gradient norms of the task loss on `data`, per layer, measured with tf.variableGrads and one readback. */
export async function probeGradients(model: tfl.LayersModel, task: Task, data: TaskData): Promise<GradientProbe> {
  const owners = model.layers.filter((l) => l.trainableWeights.length > 0);
  const variables = owners.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const stacked = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => taskLoss(task, model.apply(data.xs, { training: true }) as tf.Tensor, data.ys), variables);
    const perLayer = owners.map((l) => tf.addN(l.trainableWeights.map((w) => tf.sum(tf.square(grads[(w.read() as tf.Variable).name]!)))));
    return tf.stack([value, ...perLayer]);
  });
  const values = await stacked.data();
  stacked.dispose();
  const layers = owners.map((l, i) => ({ layer: l.name, norm: Math.sqrt(values[i + 1]!) }));
  return { loss: values[0]!, global: Math.sqrt(layers.reduce((s, l) => s + l.norm * l.norm, 0)), layers };
}

/**
 * Fraction of hidden units (outputs of layers named `act_*`) that are zero for every input in `xs`: a dead ReLU
 * passes no gradient, so it never recovers.
 */
export async function deadUnitFraction(model: tfl.LayersModel, xs: tf.Tensor): Promise<number> {
  const acts = model.layers.filter((l) => l.name.startsWith('act_'));
  const probe = tfl.model({ inputs: model.inputs, outputs: acts.map((l) => l.output as tfl.SymbolicTensor) });
  const counts = tf.tidy(() => {
    const outs = probe.predict(xs) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(outs) ? outs : [outs];
    const dead = list.map((o) => tf.sum(tf.cast(tf.all(tf.lessEqual(o, 0), 0), 'float32')));
    return tf.stack([tf.addN(dead), tf.scalar(list.reduce((s, o) => s + o.shape[1]!, 0))]);
  });
  const [dead, total] = await counts.data();
  counts.dispose();
  return dead! / total!;
}

/**
 * Norm of d(loss)/d(input) at the first and at the last time step of a sequence task: their ratio shows how much of
 * a distant input's signal survives the trip back through time (vanishing when tiny).
 */
export async function probeInputGradients(model: tfl.LayersModel, task: Task, data: TaskData): Promise<{ first: number; last: number }> {
  const T = data.xs.shape[1]!;
  const norms = tf.tidy(() => {
    const g = tf.grad((x: tf.Tensor) => taskLoss(task, model.apply(x, { training: true }) as tf.Tensor, data.ys))(data.xs);
    const at = (t: number) => tf.norm(tf.slice(g, [0, t, 0], [-1, 1, -1]));
    return tf.stack([at(0), at(T - 1)]);
  });
  const [first, last] = await norms.data();
  norms.dispose();
  return { first: first!, last: last! };
}
