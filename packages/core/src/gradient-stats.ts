import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, checkNumber, checkOptions, describeValue } from './errors';
import { type HostView, hostHeapOf, hostViewOf } from './host-buffers';
import { type HostSimd, hostSimd } from './host-simd';
import { type LayerLike, type LayerMap, layerOrder, mapVariablesToLayers } from './layer-map';
import { type ReadValues, type StepReadback, createReadback } from './readback';
import { decodeTensorStats, hasTensorStatsKernel, runTensorStatsKernel } from './stats-kernel';
import type { GradientStatistics, LayerStatistics, VariableStatistics } from './run-log/statistics';

/** Device layout, per variable, in order: Σ(g / max|g|)², count finite, count zero, then Σw² and Σu² when measured, then max|g|. */
const ROW_SQ = 0;
const ROW_FINITE = 1;
const ROW_ZERO = 2;

/**
 * What both kernels produce before assembly, per variable (in gradient-map order), `FIELDS` numbers each:
 * Σg², non-finite count, zero count, max g², Σw² (NaN: not measured), Σu² (NaN: not given).
 */
const FIELDS = 6;
const F_SQ = 0;
const F_BAD = 1;
const F_ZERO = 2;
const F_MAXSQ = 3;
const F_W = 4;
const F_U = 5;

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
  /** Per-layer histograms of |g| over fixed log-spaced bins. Default off. */
  readonly histogram?: boolean | HistogramOptions;
}

/**
 * Statistics still on the device: one tensor holding every number, and how to decode it once read.
 * The caller owns `tensor` and must dispose it after reading it (`await tensor.data()`).
 */
export interface PendingGradientStats {
  readonly tensor: tf.Tensor1D;
  /** Turns the values read from `tensor` into statistics. */
  decode(values: ArrayLike<number>): GradientStatistics;
}

function isLayerMap(x: unknown): x is LayerMap {
  return x instanceof Map;
}

function resolveLayerMap(model: GradientStatsOptions['model']): LayerMap | undefined {
  if (model === undefined) return undefined;
  return isLayerMap(model) ? model : mapVariablesToLayers(model);
}

function checkGradients(where: string, grads: unknown): asserts grads is tf.NamedTensorMap {
  if (grads == null || typeof grads !== 'object' || Array.isArray(grads) || grads instanceof tf.Tensor) {
    throw new InvalidArgumentError(
      `${where}: expected a map of variable name to gradient tensor, got ${describeValue(grads)}.`,
      'Pass the `grads` of tf.variableGrads(f) or optimizer.computeGradients(f).',
    );
  }
  // for...in, not Object.entries: this runs on every measured step and allocated an array per gradient.
  for (const name in grads) {
    if (!Object.prototype.hasOwnProperty.call(grads, name)) continue;
    const g = (grads as Record<string, unknown>)[name];
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

/** Which statistics kernel measures a step: one pass over host buffers, or fused tfjs ops on the device. */
export type StatsKernel = 'host' | 'device';

/** Σg² and the non-finite count of one gradient tensor, known on the host during the step (host kernel only). */
export interface TensorFacts {
  readonly sq: number;
  readonly nonFinite: number;
}

/**
 * The shape of a step's measurement that does not change from step to step: names, sizes, the layer of each variable,
 * the histogram groups, and (device kernel) the shape groups. Built once and reused while the gradient map keeps the
 * same names and sizes.
 */
interface Plan {
  readonly key: string;
  readonly names: readonly string[];
  readonly sizes: readonly number[];
  readonly shapes: readonly (readonly number[])[];
  /** Indices of non-empty variables, grouped by layer (model order) when a model is known. */
  readonly order: readonly number[];
  /** Histogram group of each variable index (-1: empty variable), and each group's layer ('' without a model). */
  readonly groupOf: Int32Array;
  readonly groups: readonly string[];
  /** Variables grouped by shape, in first-appearance order of `order` (the device kernel stacks each group). */
  readonly shapeGroups: readonly (readonly number[])[];
}

function planKey(names: readonly string[], grads: tf.NamedTensorMap): string {
  let key = '';
  for (const n of names) key += `${n}\u0000${grads[n]!.shape.join('x')}\u0001`;
  return key;
}

/** Whether `grads` has the plan's variables, in its order, with its shapes: the per-step check, no strings built. */
function samePlan(plan: Plan, names: readonly string[], grads: tf.NamedTensorMap): boolean {
  if (names.length !== plan.names.length) return false;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== plan.names[i]) return false;
    const a = grads[names[i]!]!.shape;
    const b = plan.shapes[i]!;
    if (a.length !== b.length) return false;
    for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  }
  return true;
}

function makePlan(key: string, grads: tf.NamedTensorMap, layerMap: LayerMap | undefined): Plan {
  const names = Object.keys(grads);
  const sizes = names.map((n) => grads[n]!.size);
  const shapes = names.map((n) => grads[n]!.shape);
  const rank = (i: number): number => layerMap?.get(names[i]!)?.layerIndex ?? Number.MAX_SAFE_INTEGER;
  const order = names.map((_, i) => i).filter((i) => sizes[i]! > 0);
  if (layerMap) order.sort((a, b) => rank(a) - rank(b) || a - b);
  const groupOf = new Int32Array(names.length).fill(-1);
  const groups: string[] = [];
  for (const i of order) {
    const layer = layerMap?.get(names[i]!)?.layer ?? '';
    if (groups[groups.length - 1] !== layer || groups.length === 0) groups.push(layer);
    groupOf[i] = groups.length - 1;
  }
  const byShape = new Map<string, number[]>();
  for (const i of order) {
    const k = shapes[i]!.join('x');
    const list = byShape.get(k);
    if (list) list.push(i);
    else byShape.set(k, [i]);
  }
  return { key, names, sizes, shapes, order, groupOf, groups, shapeGroups: [...byShape.values()] };
}

interface Resolved {
  readonly plan: Plan;
  readonly weights: readonly (tf.Tensor | undefined)[];
  readonly updates: readonly tf.Tensor[] | undefined;
  readonly edges: readonly number[] | undefined;
}

/** What both kernels hand to `assemble`: `FIELDS` numbers per variable, and per histogram group `edges + 1` counts. */
interface Raw {
  readonly rows: Float64Array;
  readonly histograms: Float64Array | undefined;
}

/**
 * The host kernel: one pass over each gradient buffer where it already lies (cpu's own array, wasm's heap),
 * accumulating in float64: Σg², max g², non-finite and zero counts, histogram bins; and one pass over each weight
 * (and update) buffer for Σw² (Σu²). No kernel is dispatched. The passes run in WebAssembly SIMD where `simd` is given
 * (host-simd.ts: in place on the wasm heap, copied otherwise), in JavaScript for what it declines. Returns undefined
 * when a buffer cannot be viewed.
 */
function hostKernel(grads: tf.NamedTensorMap, r: Resolved, view: HostView, simd: HostSimd | undefined): Raw | undefined {
  const { plan, edges } = r;
  const rows = new Float64Array(plan.names.length * FIELDS);
  const e2 = edges?.map((e) => e * e);
  const bins = e2 ? e2.length + 1 : 0;
  const histograms = e2 ? new Float64Array(plan.groups.length * bins) : undefined;
  for (let i = 0; i < plan.names.length; i++) {
    const o = i * FIELDS;
    rows[o + F_W] = Number.NaN;
    rows[o + F_U] = Number.NaN;
    if (plan.sizes[i] === 0) continue;
    const a = view(grads[plan.names[i]!]!);
    if (a === undefined) return undefined;
    gradientPass(a, rows, o, simd);
    if (histograms && e2) {
      const h = plan.groupOf[i]! * bins;
      for (let j = 0; j < a.length; j++) {
        const b = h + binOf(e2, a[j]! * a[j]!);
        histograms[b] = histograms[b]! + 1;
      }
    }
    const w = r.weights[i];
    if (w !== undefined) {
      const wa = view(w);
      if (wa === undefined) return undefined;
      rows[o + F_W] = simd?.sumSquares(wa) ?? sumSquares(wa);
    }
    const u = r.updates?.[i];
    if (u !== undefined) {
      const ua = view(u);
      if (ua === undefined) return undefined;
      rows[o + F_U] = simd?.sumSquares(ua) ?? sumSquares(ua);
    }
  }
  return { rows, histograms };
}

/** Σx², max|x| and the zero count of the last SIMD pass. */
const simdOut = new Float64Array(3);

/**
 * Σg², max g² and the zero count of one buffer into `rows` at `o`; the non-finite count only when Σg² says there is
 * one (NaN or +Infinity), in a second loop. With `simd`, the WebAssembly pass (about 0.4 ns per entry in place, 0.5
 * copied, against 1.8 here; Node 20 x64) unless it declines the buffer. In JavaScript, two lanes of accumulators and
 * no data-dependent branch (`Math.max`, the zero test added as 0 or 1): about 1.3 ns per entry whatever the values,
 * where `if (x === 0) zeros++` cost 3.5 ns on a ReLU layer's gradients with zeros scattered through them (mispredicted
 * branches). (Squares of float32 values
 * never overflow float64, so Σg² is +Infinity only through an infinite entry; `Math.max` keeps a NaN, and the
 * decoder reports max|g| as NaN whenever the count says there is one.)
 */
function gradientPass(a: Float32Array, rows: Float64Array, o: number, simd: HostSimd | undefined): void {
  const n = a.length;
  if (simd?.stats(a, simdOut)) {
    const sq = simdOut[0]!;
    const m = simdOut[1]!;
    rows[o + F_SQ] = sq;
    rows[o + F_BAD] = sq < Number.POSITIVE_INFINITY ? 0 : countNonFinite(a);
    rows[o + F_ZERO] = simdOut[2]!;
    rows[o + F_MAXSQ] = m * m;
    return;
  }
  let s0 = 0;
  let s1 = 0;
  let m0 = 0;
  let m1 = 0;
  let zeros = 0;
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const x = a[j]!;
    const y = a[j + 1]!;
    const p = x * x;
    const q = y * y;
    s0 += p;
    s1 += q;
    m0 = Math.max(m0, p);
    m1 = Math.max(m1, q);
    zeros += +(x === 0) + +(y === 0);
  }
  if (j < n) {
    const x = a[j]!;
    const p = x * x;
    s0 += p;
    m0 = Math.max(m0, p);
    zeros += +(x === 0);
  }
  const sq = s0 + s1;
  rows[o + F_SQ] = sq;
  rows[o + F_BAD] = sq < Number.POSITIVE_INFINITY ? 0 : countNonFinite(a);
  rows[o + F_ZERO] = zeros;
  rows[o + F_MAXSQ] = Math.max(m0, m1);
}

function countNonFinite(a: Float32Array): number {
  let bad = 0;
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) bad++;
  return bad;
}

/** Σx² of one buffer, four lanes. */
function sumSquares(a: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[j]! * a[j]!;
    s1 += a[j + 1]! * a[j + 1]!;
    s2 += a[j + 2]! * a[j + 2]!;
    s3 += a[j + 3]! * a[j + 3]!;
  }
  for (; j < n; j++) s0 += a[j]! * a[j]!;
  return s0 + s1 + s2 + s3;
}

/** Number of squared edges <= s2 (searchSorted 'right'); NaN counts below the first edge, as on the device. */
function binOf(e2: readonly number[], s2: number): number {
  if (!(s2 >= e2[0]!)) return 0;
  let lo = 1;
  let hi = e2.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e2[mid]! <= s2) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The device kernel (WebGL, WebGPU, and any backend without host buffers): every statistic as ONE 1-D tensor, nothing
 * read. Variables of the same shape are stacked and measured together — max|g|, Σ(g / max|g|)² (so that float32
 * neither overflows on 1e30 nor underflows on 1e-30), two counts (finite, exactly zero) — about 16 kernels per
 * distinct shape rather than per variable; weight and update norms add 2–3 per shape. Histograms cost a few kernels
 * per shape (searchSorted over squared edges, then one bincount overall).
 */
function deviceKernel(grads: tf.NamedTensorMap, r: Resolved): { tensor: tf.Tensor1D; decode(values: ArrayLike<number>): Raw } {
  const { plan, edges } = r;
  const { names, sizes, shapeGroups } = plan;
  const anyWeight = plan.order.some((i) => r.weights[i] !== undefined);
  const hasUpdates = r.updates !== undefined;
  const weightRow = anyWeight ? 3 : -1;
  const updateRow = hasUpdates ? (anyWeight ? 4 : 3) : -1;
  const nRows = 3 + (anyWeight ? 1 : 0) + (hasUpdates ? 1 : 0);
  const tensor = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    const zero = tf.scalar(0);
    const squares: tf.Tensor[] = [];
    // [k, n] reduced along the last axis. Splitting one flat vector instead measured 3–40× slower: SplitV copies
    // piece by piece on cpu and wasm.
    for (const group of shapeGroups) {
      const k = group.length;
      const n = sizes[group[0]!]!;
      const batch = (pick: (i: number) => tf.Tensor): tf.Tensor =>
        tf.reshape(k === 1 ? asFloat(pick(group[0]!)) : tf.stack(group.map((i) => asFloat(pick(i)))), [k, n]);
      const g = batch((i) => grads[names[i]!]!);
      // Σg² in float32 overflows above |g| ~1.8e19 and underflows below ~1e-19: sum the squares of g / max|g| and
      // scale back on the host in float64 (the scale is the max itself, read back).
      const mx = tf.max(tf.abs(g), 1);
      const usable = tf.logicalAnd(tf.isFinite(mx), tf.greater(mx, zero));
      const scale = tf.reshape(tf.where(usable, mx, tf.onesLike(mx)), [k, 1]);
      parts.push(
        tf.sum(tf.square(tf.div(g, scale)), 1),
        tf.sum(tf.cast(tf.isFinite(g), 'float32'), 1),
        tf.sum(tf.cast(tf.equal(g, zero), 'float32'), 1),
      );
      if (anyWeight) parts.push(tf.sum(tf.square(batch((i) => r.weights[i] ?? tf.zeros(plan.shapes[i] as number[]))), 1));
      if (hasUpdates) parts.push(tf.sum(tf.square(batch((i) => r.updates![i]!)), 1));
      parts.push(mx);
      if (edges) squares.push(tf.square(g));
    }
    if (edges && plan.order.length > 0) {
      // Bin index of each entry = number of edges <= |g| (compared as squares), shifted by its group (layer) times the
      // bins per group, then ONE bincount counts every group.
      const perGroup = edges.length + 1;
      const e2 = tf.tensor1d(edges.map((e) => e * e));
      const indices = shapeGroups.map((group, j) => {
        const sq = squares[j]!;
        // searchSorted puts NaN first on cpu and last on wasm: send NaN below the first edge everywhere. (A full-size
        // zerosLike, not the scalar: wasm broadcasts a scalar `where` through Tile, measured 25× slower.)
        const clean = tf.where(tf.isNaN(sq), tf.zerosLike(sq), sq);
        // Flatten before searchSorted (wasm answers [1, n] for 1-D input, so reshape after too).
        const bin = tf.reshape(tf.searchSorted(e2, tf.reshape(clean, [-1]) as tf.Tensor1D, 'right'), [-1]);
        // The offsets are spelled out entry by entry: a broadcast [k, 1] add takes a slow path on wasm.
        const n = sizes[group[0]!]!;
        const offsets = new Int32Array(group.length * n);
        group.forEach((i, row) => offsets.fill(plan.groupOf[i]! * perGroup, row * n, (row + 1) * n));
        return tf.add(bin, tf.tensor1d(offsets, 'int32'));
      });
      const all = (indices.length === 1 ? indices[0]! : tf.concat(indices)) as tf.Tensor1D;
      parts.push(tf.reshape(tf.bincount(all, tf.tensor1d([], 'float32'), plan.groups.length * perGroup), [-1]));
    }
    return parts.length === 0 ? tf.zeros([0]) : tf.concat(parts);
  }) as tf.Tensor1D;
  return {
    tensor,
    decode(values) {
      const rows = new Float64Array(names.length * FIELDS);
      let base = 0;
      for (const group of shapeGroups) {
        const k = group.length;
        group.forEach((i, t) => {
          // Group blocks are statistic-major: row r of member t is at base + r·k + t.
          const at = (row: number): number => values[base + row * k + t]!;
          const o = i * FIELDS;
          const m = at(nRows);
          const scale = Number.isFinite(m) && m > 0 ? m : 1;
          rows[o + F_SQ] = at(ROW_SQ) * scale * scale;
          rows[o + F_BAD] = Math.max(0, sizes[i]! - Math.round(at(ROW_FINITE)));
          rows[o + F_ZERO] = Math.round(at(ROW_ZERO));
          rows[o + F_MAXSQ] = m * m;
          rows[o + F_W] = weightRow >= 0 && r.weights[i] !== undefined ? at(weightRow) : Number.NaN;
          rows[o + F_U] = updateRow >= 0 ? at(updateRow) : Number.NaN;
        });
        base += k * (nRows + 1);
      }
      for (let i = 0; i < names.length; i++) {
        if (sizes[i] !== 0) continue;
        rows[i * FIELDS + F_W] = Number.NaN;
        rows[i * FIELDS + F_U] = hasUpdates ? 0 : Number.NaN;
      }
      const histograms = edges ? Float64Array.from({ length: plan.groups.length * (edges.length + 1) }, (_, j) => Math.round(values[base + j]!)) : undefined;
      return { rows, histograms };
    },
  };
}

/**
 * The device statistics of a step: the backend's registered statistics kernel (`TENSOR_STATS_KERNEL`, one custom
 * program for every gradient, weight and update tensor: see stats-kernel.ts) where the active backend has one, else the
 * fused graph above. Steps that ask for histograms take the fused graph, which bins them.
 */
function deviceStats(grads: tf.NamedTensorMap, r: Resolved): { tensor: tf.Tensor1D; decode(values: ArrayLike<number>): Raw } {
  if (r.edges || !hasTensorStatsKernel()) return deviceKernel(grads, r);
  const { plan } = r;
  const { names } = plan;
  const n = names.length;
  // Input slot of each variable's gradient, weight and update (-1: none); empty variables are not sent.
  const slots = new Int32Array(n * 3).fill(-1);
  const inputs: tf.Tensor[] = [];
  for (const i of plan.order) {
    slots[i * 3] = inputs.push(grads[names[i]!]!) - 1;
    const w = r.weights[i];
    if (w !== undefined) slots[i * 3 + 1] = inputs.push(w) - 1;
    if (r.updates) slots[i * 3 + 2] = inputs.push(r.updates[i]!) - 1;
  }
  const tensor = inputs.length === 0 ? tf.zeros([0]) as tf.Tensor1D : tf.tidy(() => runTensorStatsKernel(inputs.map(asFloat)));
  return {
    tensor,
    decode(values) {
      const rows = new Float64Array(n * FIELDS);
      for (let i = 0; i < n; i++) {
        const o = i * FIELDS;
        rows[o + F_W] = Number.NaN;
        rows[o + F_U] = r.updates && plan.sizes[i] === 0 ? 0 : Number.NaN;
        if (slots[i * 3]! < 0) continue;
        const g = decodeTensorStats(values, slots[i * 3]!);
        rows[o + F_SQ] = g.sumSquares;
        rows[o + F_BAD] = g.nonFinite;
        rows[o + F_ZERO] = g.zeros;
        rows[o + F_MAXSQ] = g.maxSquare;
        if (slots[i * 3 + 1]! >= 0) rows[o + F_W] = decodeTensorStats(values, slots[i * 3 + 1]!).sumSquares;
        if (slots[i * 3 + 2]! >= 0) rows[o + F_U] = decodeTensorStats(values, slots[i * 3 + 2]!).sumSquares;
      }
      return { rows, histograms: undefined };
    },
  };
}

/** Turns the kernels' raw numbers into statistics: norms, the NaN/Infinity rules, layer pools, histograms. */
function assemble(raw: Raw, r: Resolved, layerMap: LayerMap | undefined): GradientStatistics {
  const { plan, edges } = r;
  const { rows } = raw;
  const variables: VariableStatistics[] = [];
  let globalSq = 0;
  let size = 0;
  let nonFinite = 0;
  let maxAbs = 0;
  let weightSq = 0;
  let updateSq = 0;
  let hasWeights = false;
  for (let i = 0; i < plan.names.length; i++) {
    const o = i * FIELDS;
    const n = plan.sizes[i]!;
    const sq = rows[o + F_SQ]!;
    const bad = rows[o + F_BAD]!;
    // Σg² is NaN when any entry is NaN and +Inf when any is ±Inf, so it decides the NaN/Infinity rule for max|g| too,
    // whose NaN handling differs between backends. max|g| = sqrt(max g²).
    const mx = Number.isNaN(sq) ? Number.NaN : bad > 0 ? Number.POSITIVE_INFINITY : Math.sqrt(rows[o + F_MAXSQ]!);
    const loc = layerMap?.get(plan.names[i]!);
    const w = rows[o + F_W]!;
    const u = rows[o + F_U]!;
    // Built field by field, not from spread temporaries (this runs per variable on every measured step).
    const v: { -readonly [K in keyof VariableStatistics]: VariableStatistics[K] } = { name: plan.names[i]!, size: n, norm: Math.sqrt(sq), maxAbs: mx, nonFinite: bad, zeros: rows[o + F_ZERO]! };
    if (loc) v.layer = loc.layer;
    if (!Number.isNaN(w)) v.weightNorm = Math.sqrt(w);
    if (!Number.isNaN(u)) v.updateNorm = Math.sqrt(u);
    variables.push(v);
    globalSq += sq;
    size += n;
    nonFinite += bad;
    maxAbs = Number.isNaN(mx) || Number.isNaN(maxAbs) ? Number.NaN : Math.max(maxAbs, mx);
    if (!Number.isNaN(w)) {
      weightSq += w;
      hasWeights = true;
    }
    if (!Number.isNaN(u)) updateSq += u;
  }
  const histograms = new Map<string, number[]>();
  if (edges && raw.histograms) {
    const per = edges.length + 1;
    plan.groups.forEach((layer, g) => histograms.set(layer, Array.from(raw.histograms!.subarray(g * per, (g + 1) * per))));
  }
  const layers = layerMap ? poolByLayer(variables, layerMap, histograms) : [];
  const hasUpdates = r.updates !== undefined;
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
    ...(edges ? { histogramEdges: edges, histogram: histogram ?? new Array<number>(edges.length + 1).fill(0) } : {}),
  };
}

/** Each layer map's layers in model order, computed once (a map is built once per model and never changed). */
const layerOrders = new WeakMap<LayerMap, readonly string[]>();
/** Each layer map's bias variables (weight `bias`), computed once. */
const biasNames = new WeakMap<LayerMap, ReadonlySet<string>>();

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
    biasZeros: number;
    biasSize: number;
    w: number | undefined;
    u: number | undefined;
  }
  const acc = new Map<string, Acc>();
  let order = layerOrders.get(layerMap);
  if (!order) layerOrders.set(layerMap, (order = layerOrder(layerMap)));
  let biases = biasNames.get(layerMap);
  if (!biases) biasNames.set(layerMap, (biases = new Set([...layerMap].filter(([, loc]) => loc.weight === 'bias').map(([name]) => name))));
  for (const layer of order) {
    acc.set(layer, { sq: 0, maxAbs: 0, nonFinite: 0, zeros: 0, size: 0, biasZeros: 0, biasSize: 0, w: undefined, u: undefined });
  }
  for (const v of variables) {
    if (v.layer === undefined) continue;
    const a = acc.get(v.layer)!;
    a.sq += v.norm * v.norm;
    a.maxAbs = Number.isNaN(v.maxAbs) || Number.isNaN(a.maxAbs) ? Number.NaN : Math.max(a.maxAbs, v.maxAbs);
    a.nonFinite += v.nonFinite;
    a.zeros += v.zeros;
    a.size += v.size;
    if (biases.has(v.name)) {
      a.biasZeros += v.zeros;
      a.biasSize += v.size;
    }
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
      ...(a.biasSize > 0 ? { biasSize: a.biasSize, biasZeros: a.biasZeros } : {}),
      ...(w !== undefined ? { weightNorm: w } : {}),
      ...(u !== undefined ? { updateNorm: u } : {}),
      ...(w !== undefined && u !== undefined ? { updateRatio: u / w } : {}),
      ...(h ? { histogram: h } : {}),
    });
  }
  return out;
}

/** One step measured by a `GradientMeter`. */
export interface MeasuredGradients {
  /** The kernel that measured it. */
  readonly kernel: StatsKernel;
  /**
   * Host kernel only: Σg² and the non-finite count of each gradient tensor (by identity), known now, during the
   * step — what a skip or a clip decides from without a second norm computation or a readback.
   */
  readonly facts: ReadonlyMap<tf.Tensor, TensorFacts> | undefined;
  /** The statistics, from the readback the measurement registered in (host: known already; `values` unused). */
  decode(values: ReadValues): GradientStatistics;
}

/** Measures every step's gradients with the kernel of the active backend, its layout cached across steps. */
export interface GradientMeter {
  /** The kernel the next `measure` uses on the active backend. */
  readonly kernel: StatsKernel;
  /**
   * Measures `grads` (and, by default, the weights as they are now: call it before the update; `{ weights: false }`
   * leaves them out for this step; `{ histogram: false }` leaves out the histograms of a meter made with them). The
   * host kernel computes everything at once; the device kernel registers one tensor in `readback` under `key`.
   */
  measure(grads: tf.NamedTensorMap, readback: StepReadback, key?: string, options?: { readonly weights?: boolean; readonly histogram?: boolean }): MeasuredGradients;
}

export interface GradientMeterOptions extends GradientStatsOptions {
  /**
   * `auto` (default): the host kernel where the active backend keeps tensors in host memory (cpu, wasm, tfjs-node),
   * the device kernel elsewhere (WebGL, WebGPU). `device` forces the fused-op kernel (for comparisons and tests).
   */
  readonly kernel?: 'auto' | StatsKernel;
}

/**
 * A gradient meter: per-variable L2 norm, max |g|, non-finite and zero counts, weight norms, optional update norms and
 * per-layer histograms, pooled per layer, at the cost the active backend allows. On cpu and wasm one pass over the
 * buffers where they lie (no kernel, no copy); on WebGL and WebGPU one fused graph read back with the step's other
 * values in one asynchronous read. Both agree to float32 rounding (see the backend contract tests).
 */
const METER_KEYS = ['model', 'weights', 'updates', 'histogram', 'kernel'] as const;

export function createGradientMeter(options: GradientMeterOptions = {}): GradientMeter {
  const where = 'createGradientMeter';
  checkOptions(where, options, METER_KEYS);
  const layerMap = resolveLayerMap(options.model);
  const edges = options.histogram ? histogramEdges(where, options.histogram) : undefined;
  const kernelOption = options.kernel ?? 'auto';
  if (kernelOption !== 'auto' && kernelOption !== 'host' && kernelOption !== 'device') {
    throw new InvalidArgumentError(`${where}: kernel is ${describeValue(kernelOption)}.`, "Use 'auto', 'host' or 'device'.");
  }
  let plan: Plan | undefined;
  let viewBackend = '';
  let view: HostView | undefined;
  let simd: HostSimd | undefined;
  const currentView = (): HostView | undefined => {
    if (kernelOption === 'device') return undefined;
    const name = tf.getBackend();
    if (name !== viewBackend) {
      viewBackend = name;
      view = hostViewOf(name);
      simd = view ? hostSimd(hostHeapOf(name)) : undefined;
      if (kernelOption === 'host' && view === undefined) {
        throw new InvalidArgumentError(`${where}: kernel 'host' needs a backend with host-resident tensors; ${name} has none.`, "Use kernel 'auto'.");
      }
    }
    return view;
  };
  return {
    get kernel(): StatsKernel {
      return currentView() ? 'host' : 'device';
    },
    measure(grads, readback, key = 'gradients', step = {}) {
      checkGradients('GradientMeter.measure', grads);
      const names = Object.keys(grads);
      if (!plan || !samePlan(plan, names, grads)) plan = makePlan(planKey(names, grads), grads, layerMap);
      const resolved = resolve(where, grads, plan, step.weights === false ? { ...options, weights: false } : options, step.histogram === false ? undefined : edges);
      const v = readback.kind === 'host' ? currentView() : undefined;
      const raw = v ? hostKernel(grads, resolved, v, simd) : undefined;
      if (raw) {
        const stats = assemble(raw, resolved, layerMap);
        const names = plan.names;
        let facts: Map<tf.Tensor, TensorFacts> | undefined;
        return {
          kernel: 'host',
          // Built on first read: only transforms read it, and a watch-only step never does.
          get facts() {
            if (!facts) {
              facts = new Map();
              for (let i = 0; i < names.length; i++) facts.set(grads[names[i]!]!, { sq: raw.rows[i * FIELDS + F_SQ]!, nonFinite: raw.rows[i * FIELDS + F_BAD]! });
            }
            return facts;
          },
          decode: () => stats,
        };
      }
      const pending = deviceStats(grads, resolved);
      readback.add(key, pending.tensor);
      return {
        kernel: 'device',
        facts: undefined,
        decode: (values) => {
          const got = values.get(key);
          if (got === undefined) throw new InvalidArgumentError(`GradientMeter: the readback holds no "${key}" values.`, 'Decode with the values of the readback passed to measure().');
          return assemble(pending.decode(got), resolved, layerMap);
        },
      };
    },
  };
}

function resolve(where: string, grads: tf.NamedTensorMap, plan: Plan, options: GradientStatsOptions, edges: readonly number[] | undefined): Resolved {
  const weightOption = options.weights ?? true;
  const registered = weightOption === true ? tf.engine().registeredVariables : undefined;
  const weights = plan.names.map((n, i) => {
    if (weightOption === false) return undefined;
    const w = registered ? registered[n] : (weightOption as tf.NamedTensorMap)[n];
    if (!registered && w !== undefined && (!(w instanceof tf.Tensor) || w.isDisposed || w.size !== plan.sizes[i])) {
      // An explicit weight map that does not fit its gradient is a mistake, not a variable to leave out.
      throw new InvalidArgumentError(
        `gradientStats: weights["${n}"] ${w instanceof tf.Tensor ? (w.isDisposed ? 'is disposed' : `has shape [${w.shape.join(', ')}]`) : `is ${describeValue(w)}`}, but its gradient has shape [${plan.shapes[i]!.join(', ')}].`,
        'Pass the variables themselves (weights: true finds them by name), keyed like the gradients.',
      );
    }
    return w !== undefined && !w.isDisposed && w.size === plan.sizes[i] ? (w as tf.Tensor) : undefined;
  });
  let updates: tf.Tensor[] | undefined;
  if (options.updates !== undefined) {
    checkGradients(`${where} (updates)`, options.updates);
    updates = plan.names.map((n, i) => {
      const u = options.updates![n];
      if (u === undefined || u.size !== plan.sizes[i]) {
        throw new InvalidArgumentError(
          `gradientStats: updates has ${u === undefined ? 'no entry' : `${u.size} entries`} for "${n}", which has ${plan.sizes[i]}.`,
          'Pass one update tensor per gradient, shaped like the variable.',
        );
      }
      return u;
    });
  }
  return { plan, weights, updates, edges };
}

/**
 * The device kernel alone, for pipelines that read back themselves: one tensor holding every statistic, and its
 * decoder. The caller disposes `tensor` after reading it.
 */
export function gradientStatsOnDevice(grads: tf.NamedTensorMap, options: GradientStatsOptions = {}): PendingGradientStats {
  const where = 'gradientStatsOnDevice';
  checkGradients(where, grads);
  checkOptions(where, options, METER_KEYS.filter((k) => k !== 'kernel'));
  const layerMap = resolveLayerMap(options.model);
  const edges = options.histogram ? histogramEdges(where, options.histogram) : undefined;
  const names = Object.keys(grads);
  const resolved = resolve(where, grads, makePlan(planKey(names, grads), grads, layerMap), options, edges);
  const pending = deviceStats(grads, resolved);
  return { tensor: pending.tensor, decode: (values) => assemble(pending.decode(values), resolved, layerMap) };
}

/**
 * Per-variable L2 norm, max |g|, non-finite and zero counts, per-layer pools and the global norm of a gradient map,
 * with the active backend's kernel (one pass over host buffers on cpu and wasm, one fused graph and ONE `await
 * data()` elsewhere). Does not dispose `grads`.
 *
 * @example
 * const { grads } = tf.variableGrads(() => loss());
 * const stats = await gradientStats(grads, { model });
 * console.log(stats.globalNorm, stats.layers);
 */
export async function gradientStats(grads: tf.NamedTensorMap, options: GradientMeterOptions = {}): Promise<GradientStatistics> {
  checkGradients('gradientStats', grads);
  checkOptions('gradientStats', options, METER_KEYS);
  const meter = createGradientMeter(options);
  const readback = createReadback(meter.kernel);
  try {
    const measured = meter.measure(grads, readback);
    return measured.decode(await readback.read());
  } finally {
    readback.dispose();
  }
}
