import { InvalidArgumentError, describeValue } from './errors';
import type { KernelFacts, LayerDescription } from './detector';

/** The slice of a tfjs `LayersModel` / `Layer` this package reads; structural so core needs no tfjs-layers import. */
export interface LayerLike {
  readonly name: string;
  // `read()` returns the live tf.Variable (typed as a Tensor by tfjs-layers); its `name` is the gradient-map key.
  readonly weights: ReadonlyArray<{ read(): object; readonly originalName?: string; readonly trainable?: boolean }>;
  readonly layers?: readonly LayerLike[];
  getClassName(): string;
  /** tfjs layers serialize their settings here; read for `activation`. */
  getConfig?(): object;
}

/** Where one variable lives in the model. */
export interface VariableLocation {
  /** Layer path: `layer.name`, nested models joined with `/`. */
  readonly layer: string;
  /** The layer's class, e.g. `SimpleRNN`, `Dense`. */
  readonly className: string;
  /** The weight's name inside its layer, e.g. `kernel`, `recurrent_kernel`, `bias`. */
  readonly weight: string;
  /** Position of the layer in the model's order (input to output), counting nested layers in place. */
  readonly layerIndex: number;
  /** The layer's activation (`relu`, `tanh`...), when its config names one. */
  readonly activation?: string;
  /** Time steps per sequence of a recurrent layer, when its input shape fixes them. */
  readonly timeSteps?: number;
}

/** Variable name (the key of a gradient map) to its location; iteration order is the model's layer order. */
export type LayerMap = ReadonlyMap<string, VariableLocation>;

/**
 * Maps each of the model's variables to its layer by walking `model.layers` (recursing into nested models) and keying
 * on each weight's live variable name, `weight.read().name`. Variable names depend on what the process created
 * before, so they are never parsed.
 */
export function mapVariablesToLayers(model: LayerLike): LayerMap {
  if (model == null || typeof model !== 'object' || !Array.isArray((model as LayerLike).layers)) {
    throw new InvalidArgumentError(
      `mapVariablesToLayers: expected a tfjs LayersModel (with .layers), got ${describeValue(model)}.`,
      'Pass the model you train, e.g. the result of tf.sequential() or tf.model().',
    );
  }
  const map = new Map<string, VariableLocation>();
  let index = 0;
  const walk = (layers: readonly LayerLike[], prefix: string): void => {
    for (const layer of layers) {
      const path = prefix ? `${prefix}/${layer.name}` : layer.name;
      if (Array.isArray(layer.layers) && layer.layers.length > 0) {
        walk(layer.layers, path);
        continue;
      }
      const at = index++;
      const extra = describeLayer(layer);
      for (const w of layer.weights) {
        const name = (w.read() as { name: string }).name;
        if (!map.has(name)) {
          const weight = (w.originalName ?? name).split('/').pop() ?? name;
          map.set(name, { layer: path, className: layer.getClassName(), weight, layerIndex: at, ...extra });
        }
      }
    }
  };
  walk(model.layers!, '');
  return map;
}

/**
 * One description per layer of a layer map (name, class, activation; with `kernels`, its kernel's initial values
 * summarized, from `measureKernels`), in model order: what `monitor.describeModel` takes, so detectors can tell a
 * saturating layer (tanh, sigmoid, softmax, LSTM, GRU) from a ReLU one, and judge how the weights started.
 */
export function describeLayers(map: LayerMap, kernels?: ReadonlyMap<string, KernelFacts>): LayerDescription[] {
  const out = new Map<string, LayerDescription>();
  for (const loc of [...map.values()].sort((a, b) => a.layerIndex - b.layerIndex)) {
    if (!out.has(loc.layer)) {
      const kernel = kernels?.get(loc.layer);
      out.set(loc.layer, {
        name: loc.layer,
        className: loc.className,
        ...(loc.activation !== undefined ? { activation: loc.activation } : {}),
        ...(kernel !== undefined ? { kernel } : {}),
      });
    }
  }
  return [...out.values()];
}

/** The ordered, de-duplicated layer names of a layer map. */
export function layerOrder(map: LayerMap): string[] {
  const seen = new Set<string>();
  for (const loc of [...map.values()].sort((a, b) => a.layerIndex - b.layerIndex)) seen.add(loc.layer);
  return [...seen];
}

function describeLayer(layer: LayerLike): { activation?: string; timeSteps?: number } {
  const out: { activation?: string; timeSteps?: number } = {};
  try {
    const config = layer.getConfig?.() as { activation?: unknown; layer?: { config?: { activation?: unknown } } } | undefined;
    // A wrapper (TimeDistributed, Bidirectional) names no activation of its own: its inner layer's is the one applied.
    const activation = config?.activation ?? config?.layer?.config?.activation;
    if (typeof activation === 'string') out.activation = activation;
  } catch {
    // a layer whose config cannot be built (not yet connected) simply has no known activation
  }
  try {
    // `input` is a getter that throws for layers with several inbound nodes or none: then T stays unknown.
    const shape = (layer as { input?: { shape?: unknown } }).input?.shape;
    const t = Array.isArray(shape) && shape.length === 3 ? shape[1] : undefined;
    if (typeof t === 'number' && t > 0) out.timeSteps = t;
  } catch {
    // see above
  }
  return out;
}
