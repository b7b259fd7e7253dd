import type { LayerDescription } from '../detector';

/**
 * How a layer's units stop passing gradient, which decides what an all-zero gradient is called:
 * - `saturating`: tanh, sigmoid, hard sigmoid, softmax and softsign flatten at both ends, and LSTM/GRU gates are
 *   sigmoids whatever the cell's activation — zero gradients there are *saturated units*;
 * - `relu`: relu, relu6, elu and selu have a flat (or, for elu/selu, exponentially vanishing) negative side — zero
 *   gradients there are *dead ReLU units*. elu and selu are counted here because their units die the same way, by
 *   being pushed far negative, though they reach exact zeros only far out (float32 e^x underflows below x ≈ −104);
 * - `sparse`: an Embedding's gradient is zero for every row the batch did not use, by design — never judged;
 * - `unknown`: no description, or a linear layer (its zeros come from a ReLU or a dead input next to it).
 */
export type UnitKind = 'saturating' | 'relu' | 'sparse' | 'unknown';

const GATED = new Set(['LSTM', 'GRU', 'ConvLSTM2D', 'LSTMCell', 'GRUCell']);
const SATURATING = new Set(['tanh', 'sigmoid', 'hardSigmoid', 'hard_sigmoid', 'softmax', 'softsign']);
const RELU_FAMILY = new Set(['relu', 'relu6', 'elu', 'selu']);
const SPARSE = new Set(['Embedding']);

export function unitKind(layer: LayerDescription | undefined): UnitKind {
  if (!layer) return 'unknown';
  if (SPARSE.has(layer.className)) return 'sparse';
  if (GATED.has(layer.className)) return 'saturating';
  if (layer.activation !== undefined && SATURATING.has(layer.activation)) return 'saturating';
  if (layer.activation !== undefined && RELU_FAMILY.has(layer.activation)) return 'relu';
  return 'unknown';
}

/** Layer name → kind, from a model description; layers not described are `unknown`. */
export function unitKinds(layers: readonly LayerDescription[]): Map<string, UnitKind> {
  return new Map(layers.map((l) => [l.name, unitKind(l)]));
}
