import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, describeValue } from './errors';
import { type LayerLike, type LayerMap, layerOrder, mapVariablesToLayers } from './layer-map';
import type { GradientStatistics, LayerStatistics, VariableStatistics } from './run-log/statistics';

/** Number of values measured per variable in the stacked statistics tensor. */
const PER_VARIABLE = 4; // sum of squares, max |g|, finite count, zero count

export interface GradientStatsOptions {
  /** The model (or a precomputed layer map) whose layers own the variables; enables per-layer statistics. */
  readonly model?: LayerLike | LayerMap;
}

/**
 * Statistics still on the device: one tensor holding every number, and how to decode it once read.
 * The caller owns `tensor` and must dispose it after reading it (`await tensor.data()`).
 */
export interface PendingGradientStats {
  readonly tensor: tf.Tensor1D;
  /** Turns the values read from `tensor` into statistics. */
  decode(values: ArrayLike<number>): GradientStatistics;
  /** Index of the first value after the gradient statistics, where callers may append their own scalars. */
  readonly extraOffset: number;
}

function isLayerMap(x: unknown): x is LayerMap {
  return x instanceof Map;
}

function resolveLayerMap(model: GradientStatsOptions['model']): LayerMap | undefined {
  if (model === undefined) return undefined;
  return isLayerMap(model) ? model : mapVariablesToLayers(model);
}

function checkGradients(where: string, grads: unknown): asserts grads is tf.NamedTensorMap {
  if (grads == null || typeof grads !== 'object' || Array.isArray(grads)) {
    throw new InvalidArgumentError(
      `${where}: expected a map of variable name to gradient tensor, got ${describeValue(grads)}.`,
      'Pass the `grads` of tf.variableGrads(f) or optimizer.computeGradients(f).',
    );
  }
  for (const [name, g] of Object.entries(grads)) {
    if (!(g instanceof tf.Tensor)) {
      throw new InvalidArgumentError(`${where}: gradient "${name}" is ${describeValue(g)}, not a tf.Tensor.`);
    }
    if (g.isDisposed) {
      throw new InvalidArgumentError(
        `${where}: gradient "${name}" is already disposed.`,
        'Compute statistics before the gradients are applied and disposed.',
      );
    }
  }
}

/**
 * Builds every per-variable gradient statistic as ONE 1-D tensor on the device, plus `extra` scalars appended at the
 * end (the loss, post-transform sums of squares...), so a step costs exactly one readback. Nothing is read here.
 *
 * Layout: for each variable i (in `Object.keys(grads)` order), 4 values: sum(g²), max|g|, count of finite entries,
 * count of zeros; then the extras, each cast to float32 and flattened to one value.
 */
export function gradientStatsOnDevice(
  grads: tf.NamedTensorMap,
  options: GradientStatsOptions & { extra?: readonly tf.Tensor[] } = {},
): PendingGradientStats {
  checkGradients('gradientStatsOnDevice', grads);
  const names = Object.keys(grads);
  const sizes = names.map((n) => grads[n]!.size);
  const layerMap = resolveLayerMap(options.model);
  const extra = options.extra ?? [];
  const tensor = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    const zero = tf.scalar(0, 'float32');
    for (const name of names) {
      const raw = grads[name]!;
      const g = raw.dtype === 'float32' ? raw : tf.cast(raw, 'float32');
      if (g.size === 0) {
        parts.push(zero, zero, zero, zero);
        continue;
      }
      parts.push(
        tf.sum(tf.square(g)),
        tf.max(tf.abs(g)),
        tf.sum(tf.cast(tf.isFinite(g), 'float32')),
        tf.sum(tf.cast(tf.equal(g, zero), 'float32')),
      );
    }
    for (const e of extra) {
      const f = e.dtype === 'float32' ? e : tf.cast(e, 'float32');
      parts.push(tf.reshape(f.size === 1 ? f : tf.slice(tf.reshape(f, [-1]), 0, 1), []));
    }
    return parts.length === 0 ? tf.zeros([0]) : tf.stack(parts);
  }) as tf.Tensor1D;
  return {
    tensor,
    extraOffset: names.length * PER_VARIABLE,
    decode: (values) => decodeGradientStats(values, names, sizes, layerMap),
  };
}

function decodeGradientStats(
  values: ArrayLike<number>,
  names: readonly string[],
  sizes: readonly number[],
  layerMap: LayerMap | undefined,
): GradientStatistics {
  const variables: VariableStatistics[] = [];
  let globalSq = 0;
  let size = 0;
  let nonFinite = 0;
  let maxAbs = 0;
  for (let i = 0; i < names.length; i++) {
    const o = i * PER_VARIABLE;
    const sq = values[o]!;
    const n = sizes[i]!;
    const bad = Math.max(0, n - Math.round(values[o + 2]!));
    // sum(g²) is NaN when any entry is NaN and +Inf when any is ±Inf, so it decides the NaN/Infinity rule for
    // max|g| too, whose NaN handling differs between backends.
    const mx = Number.isNaN(sq) ? Number.NaN : bad > 0 ? Number.POSITIVE_INFINITY : n === 0 ? 0 : values[o + 1]!;
    const loc = layerMap?.get(names[i]!);
    variables.push({
      name: names[i]!,
      ...(loc ? { layer: loc.layer } : {}),
      size: n,
      norm: Math.sqrt(sq),
      maxAbs: mx,
      nonFinite: bad,
      zeros: Math.round(values[o + 3]!),
    });
    globalSq += sq;
    size += n;
    nonFinite += bad;
    maxAbs = Number.isNaN(mx) || Number.isNaN(maxAbs) ? Number.NaN : Math.max(maxAbs, mx);
  }
  return {
    variables,
    layers: layerMap ? poolByLayer(variables, layerMap) : [],
    globalNorm: Math.sqrt(globalSq),
    maxAbs,
    nonFinite,
    size,
  };
}

function poolByLayer(variables: readonly VariableStatistics[], layerMap: LayerMap): LayerStatistics[] {
  const acc = new Map<string, { sq: number; maxAbs: number; nonFinite: number; zeros: number; size: number }>();
  for (const layer of layerOrder(layerMap)) acc.set(layer, { sq: 0, maxAbs: 0, nonFinite: 0, zeros: 0, size: 0 });
  for (const v of variables) {
    if (v.layer === undefined) continue;
    const a = acc.get(v.layer)!;
    a.sq += v.norm * v.norm;
    a.maxAbs = Number.isNaN(v.maxAbs) || Number.isNaN(a.maxAbs) ? Number.NaN : Math.max(a.maxAbs, v.maxAbs);
    a.nonFinite += v.nonFinite;
    a.zeros += v.zeros;
    a.size += v.size;
  }
  const out: LayerStatistics[] = [];
  for (const [layer, a] of acc) {
    if (a.size === 0) continue; // a layer without trainable variables in this gradient map
    out.push({ layer, size: a.size, norm: Math.sqrt(a.sq), maxAbs: a.maxAbs, nonFinite: a.nonFinite, zeros: a.zeros });
  }
  return out;
}

/**
 * Per-variable L2 norm, max |g|, non-finite and zero counts, per-layer pools and the global norm of a gradient map,
 * computed on the device and read back with ONE `await data()`. Does not dispose `grads`.
 *
 * @example
 * const { grads } = tf.variableGrads(() => loss());
 * const stats = await gradientStats(grads, { model });
 * console.log(stats.globalNorm, stats.layers);
 */
export async function gradientStats(
  grads: tf.NamedTensorMap,
  options: GradientStatsOptions = {},
): Promise<GradientStatistics> {
  const pending = gradientStatsOnDevice(grads, options);
  try {
    return pending.decode(await pending.tensor.data());
  } finally {
    pending.tensor.dispose();
  }
}
