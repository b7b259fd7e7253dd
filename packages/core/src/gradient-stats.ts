import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, checkNumber, describeValue } from './errors';
import { type LayerLike, type LayerMap, layerOrder, mapVariablesToLayers } from './layer-map';
import type { GradientStatistics, LayerStatistics, VariableStatistics } from './run-log/statistics';
import { type PendingSpectra, type SpectralOptions, recurrentSpectraOnDevice } from './spectral-radius';

/** Per variable, in order: sum g², count finite, count zero, then sum w² and sum u² when measured, then max g². */
const ROW_SQ = 0;
const ROW_FINITE = 1;
const ROW_ZERO = 2;

export interface HistogramOptions {
  /** Number of bins between the first and the last edge. Default 24 (two per decade). */
  readonly bins?: number;
  /** log10 of the first edge. Default -10. */
  readonly minLog10?: number;
  /** log10 of the last edge. Default 2. */
  readonly maxLog10?: number;
}

export interface GradientStatsOptions {
  /** The model (or a precomputed layer map) whose layers own the variables; enables per-layer statistics. */
  readonly model?: LayerLike | LayerMap;
  /**
   * Weight norms: `true` (default) finds each gradient's variable by name in the tfjs engine; a map gives the weights
   * explicitly; `false` skips them. Variables not found are left without `weightNorm`.
   */
  readonly weights?: boolean | tf.NamedTensorMap;
  /** The update applied at this step (new minus old weights) per variable name: adds update norms and ratios. */
  readonly updates?: tf.NamedTensorMap;
  /** Per-layer histograms of |g| over fixed log-spaced bins, computed on the device. Default off. */
  readonly histogram?: boolean | HistogramOptions;
  /** The recurrent kernels' spectral radius and norm (needs `model`). Default off. */
  readonly recurrent?: boolean | SpectralOptions;
  /**
   * Compute the detail parts (weights, updates, histogram, recurrent) only on steps where `step % detailEvery === 0`;
   * other steps get the gradient statistics alone. Default 1 (every step).
   */
  readonly detailEvery?: number;
  /** The step number `detailEvery` is applied to. Default 0. */
  readonly step?: number;
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

function histogramEdges(where: string, option: true | HistogramOptions): number[] {
  const o = option === true ? {} : option;
  const bins = checkNumber(where, 'histogram.bins', o.bins ?? 24, { min: 1, max: 256, integer: true });
  const lo = checkNumber(where, 'histogram.minLog10', o.minLog10 ?? -10, { min: -18, max: 18 });
  const hi = checkNumber(where, 'histogram.maxLog10', o.maxLog10 ?? 2, { min: -18, max: 18 });
  if (!(hi > lo)) {
    throw new InvalidArgumentError(`${where}: histogram.maxLog10 (${hi}) must be above histogram.minLog10 (${lo}).`);
  }
  return Array.from({ length: bins + 1 }, (_, k) => 10 ** (lo + ((hi - lo) * k) / bins));
}

/** Casting to the same dtype still dispatches a kernel: skip it for float32, which nearly every tensor is. */
function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

interface Layout {
  readonly names: readonly string[];
  readonly sizes: readonly number[];
  /** Indices of non-empty variables in device order (grouped by layer when a model is known). */
  readonly order: readonly number[];
  readonly rows: number;
  readonly hasWeight: readonly boolean[];
  readonly updateRow: number;
  readonly weightRow: number;
  /** Histogram groups: layer name ('' for all) and the number of values each contributes. */
  readonly groups: readonly { layer: string; size: number }[];
  readonly edges: readonly number[] | undefined;
  readonly recurrent: PendingSpectra | undefined;
  readonly recurrentOffset: number;
  readonly histogramOffset: number;
  readonly slots: ReadonlyMap<number, { base: number; at: number; k: number }>;
}

/**
 * Builds every per-variable gradient statistic as ONE 1-D tensor on the device, plus `extra` scalars appended at the
 * end (the loss, post-transform sums of squares...), so a step costs exactly one readback. Nothing is read here.
 *
 * Variables of the same shape are stacked and measured together: g² once, reused for the sum and for
 * max|g| = √max g², and two counts (finite, exactly zero), 9 kernels per distinct shape (plus a stack) rather than per
 * variable; weight and update norms add 2–3 per shape. Histograms cost a few kernels per layer (searchSorted over
 * squared edges, then bincount). The layout is private to `decode`; `extraOffset` says where the extras start.
 */
export function gradientStatsOnDevice(
  grads: tf.NamedTensorMap,
  options: GradientStatsOptions & { extra?: readonly tf.Tensor[] } = {},
): PendingGradientStats {
  const where = 'gradientStatsOnDevice';
  checkGradients(where, grads);
  const names = Object.keys(grads);
  const sizes = names.map((n) => grads[n]!.size);
  const layerMap = resolveLayerMap(options.model);
  const extra = options.extra ?? [];
  const detailEvery = checkNumber(where, 'detailEvery', options.detailEvery ?? 1, { min: 1, integer: true });
  const step = checkNumber(where, 'step', options.step ?? 0, { min: 0, integer: true });
  const detail = step % detailEvery === 0;

  const weightOption = detail ? (options.weights ?? true) : false;
  const weightOf = (name: string): tf.Tensor | undefined =>
    weightOption === false
      ? undefined
      : weightOption === true
        ? tf.engine().registeredVariables[name]
        : weightOption[name];
  const updates = detail ? options.updates : undefined;
  if (updates !== undefined) checkGradients(`${where} (updates)`, updates);
  const edges = detail && options.histogram ? histogramEdges(where, options.histogram) : undefined;
  if (detail && options.recurrent && layerMap === undefined) {
    throw new InvalidArgumentError(`${where}: recurrent: true needs the model.`, 'Pass { model, recurrent: true }.');
  }

  // Device order: grouped by layer (model order) so that each layer's entries are contiguous for its histogram.
  const rank = (i: number): number => layerMap?.get(names[i]!)?.layerIndex ?? Number.MAX_SAFE_INTEGER;
  const order = names.map((_, i) => i).filter((i) => sizes[i]! > 0);
  if (layerMap) order.sort((a, b) => rank(a) - rank(b) || a - b);
  const hasWeight = names.map((n, i) => {
    const w = weightOf(n);
    return w !== undefined && !w.isDisposed && w.size === sizes[i];
  });
  const anyWeight = order.some((i) => hasWeight[i]);
  for (const i of order) {
    const u = updates?.[names[i]!];
    if (updates !== undefined && (u === undefined || u.size !== sizes[i])) {
      throw new InvalidArgumentError(
        `${where}: updates has ${u === undefined ? 'no entry' : `${u.size} entries`} for "${names[i]}", which has ${sizes[i]}.`,
        'Pass one update tensor per gradient, shaped like the variable.',
      );
    }
  }
  const weightRow = anyWeight ? 3 : -1;
  const updateRow = updates !== undefined ? (anyWeight ? 4 : 3) : -1;
  const rows = 3 + (anyWeight ? 1 : 0) + (updates !== undefined ? 1 : 0);
  const groups: { layer: string; size: number }[] = [];
  if (edges) {
    for (const i of order) {
      const layer = layerMap?.get(names[i]!)?.layer ?? '';
      const last = groups[groups.length - 1];
      if (last && last.layer === layer) last.size += sizes[i]!;
      else groups.push({ layer, size: sizes[i]! });
    }
  }
  const recurrent = detail && options.recurrent && layerMap
    ? recurrentSpectraOnDevice(layerMap, options.recurrent === true ? {} : options.recurrent)
    : undefined;

  // Variables grouped by shape (first appearance order); the device layout follows the groups.
  const byShape = new Map<string, number[]>();
  for (const i of order) {
    const key = grads[names[i]!]!.shape.join('x');
    const list = byShape.get(key);
    if (list) list.push(i);
    else byShape.set(key, [i]);
  }
  const shapeGroups = [...byShape.values()];
  const tensor = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    const zero = tf.scalar(0);
    const squares: tf.Tensor[] = []; // per shape group, [k, n], for the histograms
    // Variables of one shape are stacked and measured together, [k, n] reduced along the last axis: 9 kernels per
    // shape instead of per variable (a 20 × Dense(64) MLP has 4 shapes for its 42 variables). Splitting one flat
    // vector instead measured 3–40× slower: SplitV copies piece by piece on cpu and wasm.
    for (const group of shapeGroups) {
      const k = group.length;
      const n = sizes[group[0]!]!;
      const batch = (pick: (i: number) => tf.Tensor): tf.Tensor =>
        tf.reshape(k === 1 ? asFloat(pick(group[0]!)) : tf.stack(group.map((i) => asFloat(pick(i)))), [k, n]);
      const g = batch((i) => grads[names[i]!]!);
      const sq = tf.square(g);
      parts.push(
        tf.sum(sq, 1),
        tf.sum(tf.cast(tf.isFinite(g), 'float32'), 1),
        tf.sum(tf.cast(tf.equal(g, zero), 'float32'), 1),
      );
      if (anyWeight) {
        const w = batch((i) => (hasWeight[i] ? weightOf(names[i]!)! : tf.zeros(grads[names[i]!]!.shape)));
        parts.push(tf.sum(tf.square(w), 1));
      }
      if (updates !== undefined) parts.push(tf.sum(tf.square(batch((i) => updates[names[i]!]!)), 1));
      parts.push(tf.max(sq, 1)); // max|g| = sqrt(max g²): no abs needed
      if (edges) squares.push(sq);
    }
    if (edges && order.length > 0) {
      // Bin index of each entry = number of edges <= |g| (compared as squares), shifted by its histogram group (layer)
      // times the bins per group, then ONE bincount counts every group: a few kernels per shape, one overall.
      const perGroup = edges.length + 1;
      const groupOf = new Map<number, number>();
      let g = 0;
      let covered = 0;
      for (const i of order) {
        if (covered >= groups[g]!.size) {
          g++;
          covered = 0;
        }
        groupOf.set(i, g);
        covered += sizes[i]!;
      }
      const e2 = tf.tensor1d(edges.map((e) => e * e));
      const indices: tf.Tensor[] = shapeGroups.map((group, j) => {
        const sq = squares[j]!;
        // searchSorted puts NaN first on cpu and last on wasm: send NaN below the first edge everywhere. (A full-size
        // zerosLike, not the scalar: wasm broadcasts a scalar `where` through Tile, measured 25× slower.)
        const clean = tf.where(tf.isNaN(sq), tf.zerosLike(sq), sq);
        // Flatten before searchSorted (wasm answers [1, n] for 1-D input, so reshape after too).
        const bin = tf.reshape(tf.searchSorted(e2, tf.reshape(clean, [-1]) as tf.Tensor1D, 'right'), [-1]);
        // The offsets are spelled out entry by entry: a broadcast [k, 1] add takes a slow path on wasm.
        const n = sizes[group[0]!]!;
        const offsets = new Int32Array(group.length * n);
        group.forEach((i, row) => offsets.fill(groupOf.get(i)! * perGroup, row * n, (row + 1) * n));
        return tf.add(bin, tf.tensor1d(offsets, 'int32'));
      });
      const all = (indices.length === 1 ? indices[0]! : tf.concat(indices)) as tf.Tensor1D;
      parts.push(tf.reshape(tf.bincount(all, tf.tensor1d([], 'float32'), groups.length * perGroup), [-1]));
    }
    if (recurrent) parts.push(recurrent.tensor);
    for (const e of extra) {
      const f = e.dtype === 'float32' ? e : tf.cast(e, 'float32');
      parts.push(tf.reshape(f.size === 1 ? f : tf.slice(tf.reshape(f, [-1]), 0, 1), [1]));
    }
    return parts.length === 0 ? tf.zeros([0]) : tf.concat(parts);
  }) as tf.Tensor1D;
  const recurrentSize = recurrent?.tensor.size ?? 0;
  recurrent?.tensor.dispose();
  const histogramOffset = order.length * (rows + 1);
  // Where each variable's values sit: group block start, its index in the group, the group size.
  const slots = new Map<number, { base: number; at: number; k: number }>();
  let base = 0;
  for (const group of shapeGroups) {
    group.forEach((i, at) => slots.set(i, { base, at, k: group.length }));
    base += group.length * (rows + 1);
  }
  const recurrentOffset = histogramOffset + (edges ? groups.length * (edges.length + 1) : 0);
  const layout: Layout = {
    names,
    sizes,
    order,
    rows,
    hasWeight,
    weightRow,
    updateRow,
    groups,
    edges,
    recurrent,
    recurrentOffset,
    histogramOffset,
    slots,
  };
  return {
    tensor,
    extraOffset: recurrentOffset + recurrentSize,
    decode: (values) => decodeGradientStats(values, layout, layerMap),
  };
}

/** [below the first edge, per bin, at or above the last edge]: the `edges + 1` bincount values as integers. */
function binCounts(values: ArrayLike<number>, offset: number, edges: number): number[] {
  return Array.from({ length: edges + 1 }, (_, k) => Math.round(values[offset + k]!));
}

function decodeGradientStats(
  values: ArrayLike<number>,
  layout: Layout,
  layerMap: LayerMap | undefined,
): GradientStatistics {
  const { names, sizes, rows } = layout;
  const variables: VariableStatistics[] = [];
  let globalSq = 0;
  let size = 0;
  let nonFinite = 0;
  let maxAbs = 0;
  let weightSq = 0;
  let updateSq = 0;
  for (let i = 0; i < names.length; i++) {
    const o = layout.slots.get(i);
    const n = sizes[i]!;
    // Group blocks are statistic-major: row r of member t is at base + r·k + t.
    const at = (row: number): number => (o === undefined ? 0 : values[o.base + row * o.k + o.at]!);
    const sq = at(ROW_SQ);
    const bad = o === undefined ? 0 : Math.max(0, n - Math.round(at(ROW_FINITE)));
    // sum(g²) is NaN when any entry is NaN and +Inf when any is ±Inf, so it decides the NaN/Infinity rule for
    // max|g| too, whose NaN handling differs between backends. max|g| = sqrt(max g²).
    const mx = Number.isNaN(sq) ? Number.NaN : bad > 0 ? Number.POSITIVE_INFINITY : o === undefined ? 0 : Math.sqrt(at(rows));
    const loc = layerMap?.get(names[i]!);
    const w = layout.weightRow >= 0 && layout.hasWeight[i] ? at(layout.weightRow) : undefined;
    const u = layout.updateRow >= 0 ? at(layout.updateRow) : undefined;
    variables.push({
      name: names[i]!,
      ...(loc ? { layer: loc.layer } : {}),
      size: n,
      norm: Math.sqrt(sq),
      maxAbs: mx,
      nonFinite: bad,
      zeros: Math.round(at(ROW_ZERO)),
      ...(w !== undefined ? { weightNorm: Math.sqrt(w) } : {}),
      ...(u !== undefined ? { updateNorm: Math.sqrt(u) } : {}),
    });
    globalSq += sq;
    size += n;
    nonFinite += bad;
    maxAbs = Number.isNaN(mx) || Number.isNaN(maxAbs) ? Number.NaN : Math.max(maxAbs, mx);
    if (w !== undefined) weightSq += w;
    if (u !== undefined) updateSq += u;
  }
  const histograms = new Map<string, number[]>();
  if (layout.edges) {
    let o = layout.histogramOffset;
    for (const gr of layout.groups) {
      histograms.set(gr.layer, binCounts(values, o, layout.edges.length));
      o += layout.edges.length + 1;
    }
  }
  const layers = layerMap ? poolByLayer(variables, layerMap, histograms) : [];
  const hasWeights = variables.some((v) => v.weightNorm !== undefined);
  const hasUpdates = layout.updateRow >= 0;
  const weightNorm = Math.sqrt(weightSq);
  const updateNorm = Math.sqrt(updateSq);
  let histogram: number[] | undefined;
  for (const h of histograms.values()) histogram = histogram ? histogram.map((c, k) => c + h[k]!) : [...h];
  return {
    variables,
    layers,
    globalNorm: Math.sqrt(globalSq),
    maxAbs,
    nonFinite,
    size,
    ...(hasWeights ? { weightNorm } : {}),
    ...(hasUpdates ? { updateNorm } : {}),
    ...(hasWeights && hasUpdates ? { updateRatio: updateNorm / weightNorm } : {}),
    ...(layout.edges ? { histogramEdges: layout.edges, histogram: histogram ?? new Array<number>(layout.edges.length + 1).fill(0) } : {}),
    ...(layout.recurrent ? { recurrent: layout.recurrent.decode(values, layout.recurrentOffset) } : {}),
  };
}

function poolByLayer(
  variables: readonly VariableStatistics[],
  layerMap: LayerMap,
  histograms: ReadonlyMap<string, number[]>,
): LayerStatistics[] {
  interface Acc {
    sq: number;
    maxAbs: number;
    nonFinite: number;
    zeros: number;
    size: number;
    w: number | undefined;
    u: number | undefined;
  }
  const acc = new Map<string, Acc>();
  for (const layer of layerOrder(layerMap)) {
    acc.set(layer, { sq: 0, maxAbs: 0, nonFinite: 0, zeros: 0, size: 0, w: undefined, u: undefined });
  }
  for (const v of variables) {
    if (v.layer === undefined) continue;
    const a = acc.get(v.layer)!;
    a.sq += v.norm * v.norm;
    a.maxAbs = Number.isNaN(v.maxAbs) || Number.isNaN(a.maxAbs) ? Number.NaN : Math.max(a.maxAbs, v.maxAbs);
    a.nonFinite += v.nonFinite;
    a.zeros += v.zeros;
    a.size += v.size;
    if (v.weightNorm !== undefined) a.w = (a.w ?? 0) + v.weightNorm * v.weightNorm;
    if (v.updateNorm !== undefined) a.u = (a.u ?? 0) + v.updateNorm * v.updateNorm;
  }
  const out: LayerStatistics[] = [];
  for (const [layer, a] of acc) {
    if (a.size === 0) continue; // a layer without trainable variables in this gradient map
    const w = a.w === undefined ? undefined : Math.sqrt(a.w);
    const u = a.u === undefined ? undefined : Math.sqrt(a.u);
    const h = histograms.get(layer);
    out.push({
      layer,
      size: a.size,
      norm: Math.sqrt(a.sq),
      maxAbs: a.maxAbs,
      nonFinite: a.nonFinite,
      zeros: a.zeros,
      ...(w !== undefined ? { weightNorm: w } : {}),
      ...(u !== undefined ? { updateNorm: u } : {}),
      ...(w !== undefined && u !== undefined ? { updateRatio: u / w } : {}),
      ...(h ? { histogram: h } : {}),
    });
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
