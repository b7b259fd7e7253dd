import * as tf from '@tensorflow/tfjs-core';

/**
 * The state variables of a tfjs optimizer (Adam's moments and β-powers, Momentum's accumulations, ...). The built-in
 * optimizers keep them as own fields: a `tf.Variable`, or arrays of `{ originalName, variable }` filled lazily on the
 * first update of each weight. Found by walking those fields, so optimizers written the same way are covered too.
 */
export function optimizerSlots(optimizer: tf.Optimizer): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const value of Object.values(optimizer as object)) {
    if (value instanceof tf.Variable) out.push(value);
    else if (Array.isArray(value)) {
      for (const e of value) {
        const v = (e as { variable?: unknown } | null)?.variable;
        if (v instanceof tf.Variable) out.push(v);
      }
    }
  }
  return out;
}

/** Variables paired with a copy of their current value (`tf.clone` shares the data: no copy is made until they change). */
export type Snapshot = ReadonlyArray<readonly [tf.Variable, tf.Tensor]>;

export function takeSnapshot(variables: Iterable<tf.Variable>): Snapshot {
  const seen = new Set<tf.Variable>();
  const out: Array<readonly [tf.Variable, tf.Tensor]> = [];
  for (const v of variables) {
    if (seen.has(v) || v.isDisposed) continue;
    seen.add(v);
    out.push([v, tf.keep(tf.clone(v))]);
  }
  return out;
}

export function disposeSnapshot(s: Snapshot): void {
  for (const [, t] of s) t.dispose();
}

/**
 * The exact skip decided on the device: snapshots `variables` (the weights the step touches and the optimizer's
 * slots), runs `apply`, and puts every variable back to its old value where `ok` is false — `tf.where(ok, new, old)`,
 * without a readback. Slots created by this very step saw the gradients the skip zeroed, which leaves them at their
 * initial value.
 */
export function applyGated(ok: tf.Tensor, variables: Iterable<tf.Variable>, apply: () => void): void {
  const before = takeSnapshot(variables);
  try {
    apply();
    tf.tidy(() => {
      for (const [v, old] of before) v.assign(tf.where(ok, v, old));
    });
  } finally {
    disposeSnapshot(before);
  }
}
