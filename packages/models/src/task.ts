import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { OutputActivation } from './recurrent';

/** Inputs and targets of a task, as tensors the caller owns (dispose both). */
export interface TaskData<X extends tf.Tensor = tf.Tensor, Y extends tf.Tensor = tf.Tensor> {
  readonly xs: X;
  readonly ys: Y;
}

/** How a task is judged: a metric, the threshold that counts as solved, and what a memoryless guess scores. */
export interface Criterion {
  readonly metric: 'mse' | 'accuracy';
  /** Solved when the metric is below the threshold (mse) or at or above it (accuracy). */
  readonly threshold: number;
  /** The metric of the best input-independent guess: a model that has learned nothing scores this. */
  readonly baseline: number;
}

export interface TaskEvaluation extends Criterion {
  readonly value: number;
  readonly passed: boolean;
}

export type TaskLoss = 'meanSquaredError' | 'binaryCrossentropy' | 'categoricalCrossentropy';

/** A learning task: how to make data, what model shape it needs, how to train it, and how to judge the result. */
export interface Task {
  readonly name: string;
  /** Per-sample input shape: [T, features] for sequence tasks, [features] for MLP tasks. */
  readonly inputShape: readonly number[];
  readonly outputs: number;
  readonly outputActivation: OutputActivation;
  /** The model must emit a prediction at every time step. */
  readonly returnSequences: boolean;
  readonly loss: TaskLoss;
  readonly criterion: Criterion;
  /** Deterministic data: the same (samples, seed) gives the same tensors. */
  generate(samples: number, seed: number): TaskData;
  /** Judges predictions against the data's targets; disposes nothing it was given. */
  evaluate(predictions: tf.Tensor, data: TaskData): Promise<TaskEvaluation>;
}

export function judge(criterion: Criterion, value: number): TaskEvaluation {
  const passed = Number.isFinite(value) && (criterion.metric === 'mse' ? value < criterion.threshold : value >= criterion.threshold);
  return { ...criterion, value, passed };
}

/** Mean squared error of predictions against targets, one readback. */
export async function meanSquaredError(predictions: tf.Tensor, targets: tf.Tensor): Promise<number> {
  const mse = tf.tidy(() => tf.mean(tf.squaredDifference(predictions, targets)));
  const [value] = await mse.data();
  mse.dispose();
  return value!;
}

/**
 * Fraction of correct predictions: argmax over the last axis for one-hot targets, a 0.5 cut for a single sigmoid
 * output. Non-finite predictions count as wrong.
 */
export async function accuracy(predictions: tf.Tensor, targets: tf.Tensor): Promise<number> {
  const acc = tf.tidy(() => {
    const finite = tf.logicalNot(tf.any(tf.logicalOr(tf.isNaN(predictions), tf.isInf(predictions)), -1));
    const last = predictions.shape[predictions.shape.length - 1]!;
    const correct =
      last === 1
        ? tf.equal(tf.squeeze(tf.greater(predictions, 0.5), [-1]), tf.squeeze(tf.greater(targets, 0.5), [-1]))
        : tf.equal(tf.argMax(predictions, -1), tf.argMax(targets, -1));
    return tf.mean(tf.cast(tf.logicalAnd(correct, finite), 'float32'));
  });
  const [value] = await acc.data();
  acc.dispose();
  return value!;
}

/** Predicts the data's inputs with the model and judges the result, disposing the predictions. */
export async function evaluateModel(task: Task, model: LayersModel, data: TaskData): Promise<TaskEvaluation> {
  const predictions = model.predict(data.xs, { batchSize: 256 }) as tf.Tensor;
  try {
    return await task.evaluate(predictions, data);
  } finally {
    predictions.dispose();
  }
}
