import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, checkNumber, checkOptions, describeValue } from '@gradguard/core';
import { paramFor } from './internal';
import type { EmptyState, GradientTransformation } from './transformation';

export interface AddWeightDecayOptions {
  /** L1 coefficient: adds l1 · sign(w). Default 0. */
  readonly l1?: number;
  /** L2 coefficient: adds 2 · l2 · w. Default 0. */
  readonly l2?: number;
  /** Which variables to decay, by name and value; default all. E.g. `(name, w) => w.rank > 1` spares biases. */
  readonly include?: (name: string, param: tf.Tensor) => boolean;
}

/**
 * Coupled weight decay: adds the gradient of the penalty l1·Σ|w| + l2·Σw² to each gradient,
 * g ← g + l1·sign(w) + 2·l2·w — the same update as Keras' `regularizers.l1l2({ l1, l2 })` on the layer, but applied
 * by the optimizer without touching the model. (Optax's `add_decayed_weights(λ)` is `l2 = λ / 2`.) With adaptive
 * optimizers (Adam) coupled decay is rescaled per coordinate; for decay of the weights themselves use
 * `decoupledWeightDecay`. Needs the parameters (guard passes them).
 *
 * Non-finite gradients stay non-finite; a non-finite weight makes its gradient non-finite.
 */
export function addWeightDecay(options: AddWeightDecayOptions): GradientTransformation<EmptyState> {
  if (options === undefined) {
    throw new InvalidArgumentError('addWeightDecay: options are required, got undefined.', 'Pass the penalty, e.g. addWeightDecay({ l2: 1e-4 }).');
  }
  checkOptions('addWeightDecay', options, ['l1', 'l2', 'include']);
  const l1 = checkNumber('addWeightDecay', 'l1', options.l1 ?? 0, { min: 0 });
  const l2 = checkNumber('addWeightDecay', 'l2', options.l2 ?? 0, { min: 0 });
  const include = checkInclude('addWeightDecay', options.include);
  return {
    name: 'addWeightDecay',
    init: () => ({ transform: 'addWeightDecay' }),
    update(grads, state, params) {
      const out = tf.tidy(() => {
        const res: tf.NamedTensorMap = {};
        for (const [n, g] of Object.entries(grads)) {
          const w = paramFor('addWeightDecay', params, n, g);
          if (!include(n, w)) {
            res[n] = g;
            continue;
          }
          let d = g;
          if (l2 > 0) d = tf.add(d, tf.mul(w, 2 * l2));
          if (l1 > 0) d = tf.add(d, tf.mul(tf.sign(w), l1));
          res[n] = d === g ? tf.clone(g) : d;
        }
        return res;
      });
      return [out, state];
    },
  };
}

export interface DecoupledWeightDecayOptions {
  /** Which variables to decay, by name and value; default all. */
  readonly include?: (name: string, param: tf.Tensor) => boolean;
}

/**
 * Decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization", AdamW): after the
 * optimizer's step, w ← w · (1 − lr · rate), with lr the learning rate in force (so warm-up and back-off scale the
 * decay too, as in PyTorch's AdamW). The gradients pass unchanged. It acts on the weights, so it needs `guard`
 * (which calls `afterApply`); a skipped step is not decayed.
 */
export function decoupledWeightDecay(rate: number, options: DecoupledWeightDecayOptions = {}): GradientTransformation<EmptyState> {
  checkNumber('decoupledWeightDecay', 'rate', rate, { min: 0 });
  checkOptions('decoupledWeightDecay', options, ['include']);
  const include = checkInclude('decoupledWeightDecay', options.include);
  return {
    name: 'decoupledWeightDecay',
    init: () => ({ transform: 'decoupledWeightDecay' }),
    update: (grads, state) => [grads, state],
    afterApply(params, _state, { learningRate }) {
      const factor = 1 - (learningRate ?? 1) * rate;
      for (const [n, w] of Object.entries(params)) {
        if (!(w instanceof tf.Variable) || !include(n, w)) continue;
        tf.tidy(() => w.assign(tf.mul(w, factor))); // tidy frees the product; the variable keeps its data
      }
    },
  };
}

/** The `include` filter: a function of (name, param), or all parameters when left out. */
function checkInclude(where: string, include: unknown): (name: string, param: tf.Tensor) => boolean {
  if (include === undefined) return () => true;
  if (typeof include !== 'function') {
    throw new InvalidArgumentError(
      `${where}: include must be a function (name, param) => boolean, got ${describeValue(include)}.`,
      'E.g. include: (name) => !name.includes("bias") to leave biases undecayed.',
    );
  }
  return include as (name: string, param: tf.Tensor) => boolean;
}
