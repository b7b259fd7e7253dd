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

/**
 * Applies one step's (transformed) gradients with `inner`, then runs `afterApply` (decoupled decay and the like). A
 * mask decided on the device gates the update on the device (`applyGated` over the step's weights and the optimizer's
 * slots); `undefined` or `true` applies as is — on host backends a skip is simply not calling this.
 */
export function applyStep(inner: tf.Optimizer, out: tf.NamedTensorMap, params: tf.NamedTensorMap, mask: tf.Tensor | boolean | undefined, afterApply: () => void): void {
  const commit = (): void => {
    inner.applyGradients(out);
    afterApply();
  };
  if (typeof mask === 'object') applyGated(mask, [...(Object.values(params) as tf.Variable[]), ...optimizerSlots(inner)], commit);
  else commit();
}
