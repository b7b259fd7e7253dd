import type { Severity, StepRecord } from '@gradguard/core/run-log/encode';
import type { ChartableRun } from './chart-data';
import { DISPLAY_LIMITS, truncateText } from './limits';

/**
 * One cell of a layer picture: log10 of a gradient norm (a finite, positive norm), `'zero'` (norm exactly 0), `'nan'`
 * or `'inf'` (the layer's gradients held NaN, or ±Infinity and no NaN), or null (not measured at that step).
 */
export type LayerCell = number | 'zero' | 'nan' | 'inf' | null;

/** Where an explosion starts and how it spreads: log10 ‖g‖ of every layer (rows, model order) at every step (columns). */
export interface LayerHeatmap {
  /** Index of the run in the list given to `chartData`. */
  readonly run: number;
  /** The run's name (empty with one run). */
  readonly label: string;
  /** Row names, input to output; a group of layers reads `first … last (n layers, max)`. */
  readonly rows: readonly string[];
  /** The first and the last step of each column (equal when a column is one step). */
  readonly from: readonly number[];
  readonly until: readonly number[];
  /** Row-major: `cells[row * from.length + column]`; a grouped row or column holds its largest norm, NaN/Inf first. */
  readonly cells: readonly LayerCell[];
  /** The range of the finite log10 norms (the colour scale's ends); equal when there is at most one value. */
  readonly min: number;
  readonly max: number;
  /** Layers in the run, steps in the run, and how many of each one row or column holds. */
  readonly layers: number;
  readonly steps: number;
  readonly layersPerRow: number;
  readonly stepsPerColumn: number;
}

/** The per-layer gradient norms at the step of a run's first diagnosis, with the layer it blamed. */
export interface LayerBars {
  readonly run: number;
  readonly label: string;
  /** The diagnosis: its step, problem, severity and layer (cut to `maxNameChars`), when it named one. */
  readonly step: number;
  readonly problem: string;
  readonly severity: Severity;
  readonly blamed?: string;
  /** The measured step the bars show: the diagnosis' own, or the last measured one before it. */
  readonly measuredAt: number;
  /** In model order: each layer's norm as a {@link LayerCell} (never null). */
  readonly bars: readonly { readonly layer: string; readonly value: Exclude<LayerCell, null>; readonly blamed: boolean }[];
  /** Layers of that step left out (only the largest norms and the blamed layer are kept past `maxBars`). */
  readonly otherLayers: number;
}

/** A layer norm as a cell value. */
export function layerCell(norm: number, nonFinite = 0): Exclude<LayerCell, null> {
  if (Number.isNaN(norm)) return 'nan';
  if (!Number.isFinite(norm)) return 'inf';
  if (nonFinite > 0) return 'nan'; // counted bad entries but a finite norm: a log someone else wrote; show it as bad
  if (norm <= 0) return 'zero';
  return Math.log10(norm);
}

/** Which of two cells a grouped cell shows: NaN over Infinity over the largest norm over zero over unmeasured. */
function louder(a: LayerCell, b: LayerCell): LayerCell {
  const rank = (c: LayerCell): number => (c === 'nan' ? 4 : c === 'inf' ? 3 : typeof c === 'number' ? 2 : c === 'zero' ? 1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra > rb ? a : b;
  return typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : a;
}

/** The layers of a run in model order: their order of first appearance in the step records (which list them so). */
function layerOrder(r: ChartableRun): Map<string, number> {
  const order = new Map<string, number>();
  for (const s of r.steps) for (const l of s.layers) if (!order.has(l.layer)) order.set(l.layer, order.size);
  return order;
}

/**
 * The layer × step heatmap of one run (see {@link LayerHeatmap}), bounded whatever the log holds: past
 * `maxRows` layers, consecutive layers (model order) share a row; past `maxColumns` steps, consecutive steps share a
 * column; a shared cell shows its loudest value (NaN, then Infinity, then the largest norm), so one bad step or layer
 * is never averaged away. One pass over the steps and their layers.
 */
export function layerHeatmap(
  r: ChartableRun,
  run: number,
  label: string,
  maxRows: number = DISPLAY_LIMITS.maxHeatmapRows,
  maxColumns: number = DISPLAY_LIMITS.maxHeatmapColumns,
): LayerHeatmap | undefined {
  const order = layerOrder(r);
  if (order.size === 0) return undefined;
  const stepNumbers = [...new Set(r.steps.map((s) => s.step))].sort((a, b) => a - b);
  const column = new Map(stepNumbers.map((s, i) => [s, i]));
  const perRow = Math.ceil(order.size / Math.max(1, maxRows));
  const perColumn = Math.ceil(stepNumbers.length / Math.max(1, maxColumns));
  const nRows = Math.ceil(order.size / perRow);
  const nColumns = Math.ceil(stepNumbers.length / perColumn);
  const cells = new Array<LayerCell>(nRows * nColumns).fill(null);
  for (const s of r.steps) {
    const c = Math.floor(column.get(s.step)! / perColumn);
    for (const l of s.layers) {
      const at = Math.floor(order.get(l.layer)! / perRow) * nColumns + c;
      cells[at] = louder(cells[at]!, layerCell(l.norm, l.nonFinite));
    }
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of cells) {
    if (typeof v !== 'number') continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) min = max = 0;
  const names = [...order.keys()];
  const rows = Array.from({ length: nRows }, (_, i) => {
    const group = names.slice(i * perRow, (i + 1) * perRow);
    return group.length === 1 ? truncateText(group[0]!) : `${truncateText(group[0]!, 40)} … ${truncateText(group.at(-1)!, 40)} (${group.length} layers, max)`;
  });
  const from = Array.from({ length: nColumns }, (_, c) => stepNumbers[c * perColumn]!);
  const until = Array.from({ length: nColumns }, (_, c) => stepNumbers[Math.min(stepNumbers.length, (c + 1) * perColumn) - 1]!);
  return { run, label, rows, from, until, cells, min, max, layers: order.size, steps: stepNumbers.length, layersPerRow: perRow, stepsPerColumn: perColumn };
}

const severityRank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const GRADIENT_PROBLEMS: ReadonlySet<string> = new Set(['exploding-gradient', 'vanishing-gradient', 'non-finite', 'gradient-spike']);

/**
 * The per-layer norms at the run's first diagnosis that starts or worsens a problem (among those of the earliest step:
 * the most severe, then one about the gradients, then one naming a layer), the blamed layer marked. Past `maxBars` layers, the largest norms
 * (non-finite first) and the blamed layer are kept, in model order. Undefined when the run has no such diagnosis or no
 * measured step at or before it.
 */
export function firstDiagnosisBars(r: ChartableRun, run: number, label: string, maxBars: number = DISPLAY_LIMITS.maxBars): LayerBars | undefined {
  // Among the diagnoses of the earliest step: the most severe, then one about the gradients (what the bars show),
  // then one that names a layer.
  const key = (d: ChartableRun['diagnoses'][number]): number =>
    severityRank[d.severity] * 4 + (GRADIENT_PROBLEMS.has(d.problem) ? 2 : 0) + (d.layer !== undefined ? 1 : 0);
  let first: ChartableRun['diagnoses'][number] | undefined;
  for (const d of r.diagnoses) {
    if (d.phase === 'recovery') continue;
    if (!first || d.step < first.step || (d.step === first.step && key(d) > key(first))) first = d;
  }
  if (!first) return undefined;
  let record: StepRecord | undefined;
  for (const s of r.steps) if (s.step <= first.step && s.layers.length > 0 && (!record || s.step > record.step)) record = s;
  if (!record) return undefined;
  const all = record.layers.map((l) => ({ layer: l.layer, value: layerCell(l.norm, l.nonFinite), blamed: l.layer === first.layer }));
  let kept = all;
  if (all.length > maxBars) {
    const loud = (v: Exclude<LayerCell, null>): number => (v === 'nan' ? Infinity : v === 'inf' ? Number.MAX_VALUE : v === 'zero' ? -Infinity : v);
    const top = new Set(
      all
        .map((b, i) => ({ i, key: b.blamed ? Infinity : loud(b.value) }))
        .sort((a, b) => b.key - a.key)
        .slice(0, Math.max(1, maxBars))
        .map((x) => x.i),
    );
    kept = all.filter((_, i) => top.has(i));
  }
  return {
    run,
    label,
    step: first.step,
    problem: first.problem,
    severity: first.severity,
    ...(first.layer !== undefined ? { blamed: truncateText(first.layer) } : {}),
    measuredAt: record.step,
    bars: kept.map((b) => ({ ...b, layer: truncateText(b.layer) })),
    otherLayers: all.length - kept.length,
  };
}
