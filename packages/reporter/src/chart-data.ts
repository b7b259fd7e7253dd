import type { DiagnosisRecord, HeaderRecord, Severity, StepRecord } from '@gradguard/core/run-log/encode';
import { clipBoundOf } from './clip-bound';
import { type LayerBars, type LayerHeatmap, firstDiagnosisBars, layerHeatmap } from './layer-grid';
import { DISPLAY_LIMITS, truncateText } from './limits';

/**
 * The parts of a run the charts read: a parsed `RunLog`, or a run still being recorded live (same shape, growing).
 */
export interface ChartableRun {
  readonly header: HeaderRecord;
  readonly steps: readonly StepRecord[];
  readonly diagnoses: readonly DiagnosisRecord[];
  readonly end?: { readonly status: string } | undefined;
  readonly truncated?: boolean;
}

/** One line of a chart: whose run, what it measures, and a value (or a gap) per step of `ChartData.steps`. */
export interface ChartSeries {
  readonly label: string;
  /** Index of the run in the list given to {@link chartData}. */
  readonly run: number;
  readonly kind: 'loss' | 'pre-clip' | 'post-clip' | 'clip-bound' | 'layer' | 'clip-scale' | 'learning-rate';
  /** The layer's name (cut to `DISPLAY_LIMITS.maxNameChars`), or {@link OTHER_LAYERS}. */
  readonly layer?: string;
  readonly values: readonly (number | null)[];
}

export interface ChartMark {
  readonly run: number;
  readonly step: number;
  readonly severity: Severity;
}

/** Everything the three charts draw, as uPlot columns over the union of the runs' steps. */
export interface ChartData {
  readonly steps: readonly number[];
  readonly loss: readonly ChartSeries[];
  /** True when every finite loss is > 0, so the loss chart can use a log axis. */
  readonly lossPositive: boolean;
  /** Global gradient norm before and after the mitigation, and the clip bound where a run has one. */
  readonly norm: readonly ChartSeries[];
  /** Each layer's gradient norm, per run. */
  readonly layers: readonly ChartSeries[];
  /** Per run, the clip scale (post-clip / pre-clip norm: 1 when nothing was clipped) and the learning rate in force. */
  readonly rate: readonly ChartSeries[];
  /** Per run, the layer × step heatmap of log10 ‖g‖ (runs without per-layer statistics have none). */
  readonly heatmaps: readonly LayerHeatmap[];
  /** Per run, the per-layer norms at the step of its first diagnosis (runs without a diagnosis have none). */
  readonly bars: readonly LayerBars[];
  /**
   * Steps where a run's loss or gradients were NaN/Infinity (shaded): `step`, or `step` to `until` for a stretch of
   * them (consecutive bad steps are one range; when downsampled, a bucket with any bad step is one range).
   */
  readonly bad: readonly { readonly run: number; readonly step: number; readonly until?: number }[];
  /** Diagnoses that started or worsened a problem (dashed lines); recoveries are left out, as in the HTML report. */
  readonly marks: readonly ChartMark[];
  /** Changes exactly when the set of series changes: a chart is rebuilt then, and only given new data otherwise. */
  readonly signature: string;
  /** How the runs were reduced to stay drawable (see {@link ChartDataOptions}). */
  readonly reduced: {
    /** Steps in the union of the runs (`steps.length` when nothing was downsampled). */
    readonly steps: number;
    /** Steps per bucket when downsampled (each bucket drawn as its min and max), else 1. */
    readonly bucket: number;
    /** Layers drawn only as part of an "other layers" series, summed over the runs. */
    readonly otherLayers: number;
  };
}

/** Label and `layer` of the series that stands for the layers beyond `maxLayerSeries`: their largest norm per step. */
export const OTHER_LAYERS = 'other layers (max)';

export interface ChartDataOptions {
  /** Most points per series (default `DISPLAY_LIMITS.maxPoints`, at least 4). */
  readonly maxPoints?: number;
  /** Most layer series per run (default `DISPLAY_LIMITS.maxLayerSeries`). */
  readonly maxLayerSeries?: number;
}

/** A finite number or null (uPlot draws null as a gap); `positive` also drops values a log axis cannot show. */
export const plotValue = (v: number | null | undefined, positive = false): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || (positive && v <= 0) ? null : v;

const isBadStep = (s: StepRecord): boolean => s.nonFinite > 0 || (s.loss !== null && !Number.isFinite(s.loss));

const severityRank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * Lays one or two runs out for {@link mountRunCharts}, which the HTML report and the viewer both draw with: x is the
 * sorted union of the runs' step numbers, and each run contributes a loss line, pre- and post-clip global-norm lines
 * (plus its clip bound, if it had one: {@link clipBoundOf}) and one line per layer. Runs are named by `labels`
 * (default: the run's name from its header); with one run, series are not prefixed by it. Names are cut to
 * `DISPLAY_LIMITS.maxNameChars`.
 *
 * Bounded whatever the runs hold, in time (one pass over the steps and their layers) and in size:
 * - over `maxPoints` steps, the steps are cut into `maxPoints / 2` buckets of consecutive steps, and every series
 *   keeps, per bucket, its smallest and its largest value, in the order they came (at the bucket's first and last
 *   step): a spike of one step stays on the chart at its full height (min/max downsampling, as in M4 by Jugel et al.
 *   2014, for a shared x axis);
 * - over `maxLayerSeries` layers in a run, the layers with the largest finite norm keep their series, and the rest are
 *   one {@link OTHER_LAYERS} series (their largest norm at each step);
 * - shaded non-finite steps are ranges, and diagnosis marks keep the most severe per run and step (per bucket when
 *   downsampled).
 */
export function chartData(runs: readonly ChartableRun[], labels: readonly string[] = [], options: ChartDataOptions = {}): ChartData {
  const maxPoints = Math.max(4, options.maxPoints ?? DISPLAY_LIMITS.maxPoints);
  const maxLayers = Math.max(0, options.maxLayerSeries ?? DISPLAY_LIMITS.maxLayerSeries);
  const stepSet = new Set<number>();
  for (const r of runs) for (const s of r.steps) stepSet.add(s.step);
  const allSteps = [...stepSet].sort((a, b) => a - b);
  const index = new Map(allSteps.map((s, i) => [s, i]));
  // Buckets of consecutive steps: bucket b spans allSteps[b * size .. (b + 1) * size - 1].
  const size = allSteps.length > maxPoints ? Math.ceil(allSteps.length / Math.floor(maxPoints / 2)) : 1;
  const buckets = Math.ceil(allSteps.length / size);
  const steps: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const first = allSteps[b * size]!;
    const last = allSteps[Math.min(allSteps.length, (b + 1) * size) - 1]!;
    steps.push(first);
    if (size > 1 && last !== first) steps.push(last);
  }
  /** Index in `steps` of the bucket holding `step` (or the nearest step before it), and of its last point. */
  const bucketOf = (step: number): number => {
    let lo = 0;
    let hi = allSteps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (allSteps[mid]! <= step) lo = mid;
      else hi = mid - 1;
    }
    return Math.floor(lo / size);
  };
  /** A full column (one value per step of `allSteps`) reduced to `steps`: min and max per bucket, in order. */
  const reduce = (full: (number | null)[]): (number | null)[] => {
    if (size === 1) return full;
    const out: (number | null)[] = [];
    for (let b = 0; b < buckets; b++) {
      const from = b * size;
      const to = Math.min(full.length, from + size);
      let lo = -1;
      let hi = -1;
      for (let i = from; i < to; i++) {
        const v = full[i];
        if (v === null || v === undefined) continue;
        if (lo < 0 || v < full[lo]!) lo = i;
        if (hi < 0 || v > full[hi]!) hi = i;
      }
      const pair = lo < 0 ? [null, null] : lo <= hi ? [full[lo]!, full[hi]!] : [full[hi]!, full[lo]!];
      out.push(pair[0]!);
      if (allSteps[to - 1] !== allSteps[from]) out.push(pair[1]!);
    }
    return out;
  };
  const column = (r: ChartableRun, pick: (s: StepRecord) => number | null): (number | null)[] => {
    const out = new Array<number | null>(allSteps.length).fill(null);
    for (const s of r.steps) out[index.get(s.step)!] = pick(s);
    return reduce(out);
  };
  const loss: ChartSeries[] = [];
  const norm: ChartSeries[] = [];
  const layers: ChartSeries[] = [];
  const rate: ChartSeries[] = [];
  const heatmaps: LayerHeatmap[] = [];
  const bars: LayerBars[] = [];
  const bad: { run: number; step: number; until?: number }[] = [];
  const marks: ChartMark[] = [];
  let lossPositive = true;
  let otherLayers = 0;
  runs.forEach((r, run) => {
    const name = truncateText(labels[run] ?? r.header.name);
    const prefix = runs.length > 1 ? `${name}: ` : '';
    for (const s of r.steps) if (s.loss !== null && Number.isFinite(s.loss) && s.loss <= 0) lossPositive = false;
    loss.push({ label: `${prefix}loss`, run, kind: 'loss', values: column(r, (s) => plotValue(s.loss)) });
    norm.push({ label: `${prefix}pre-clip ‖g‖`, run, kind: 'pre-clip', values: column(r, (s) => plotValue(s.preClipNorm, true)) });
    norm.push({ label: `${prefix}post-clip ‖g‖`, run, kind: 'post-clip', values: column(r, (s) => plotValue(s.postClipNorm, true)) });
    const bound = clipBoundOf(r);
    if (bound !== undefined) {
      norm.push({ label: `${prefix}clip bound`, run, kind: 'clip-bound', values: steps.map(() => bound) });
    }
    layers.push(...layerSeries(r, run, prefix, maxLayers, allSteps.length, index, reduce));
    // A scale of 0 (update zeroed or skipped) cannot sit on the log axis: a gap, and the step is listed as skipped.
    rate.push({ label: `${prefix}clip scale`, run, kind: 'clip-scale', values: column(r, (s) => plotValue(s.scale, true)) });
    rate.push({ label: `${prefix}learning rate`, run, kind: 'learning-rate', values: column(r, (s) => plotValue(s.learningRate, true)) });
    const heat = layerHeatmap(r, run, runs.length > 1 ? name : '');
    if (heat) heatmaps.push(heat);
    const blame = firstDiagnosisBars(r, run, runs.length > 1 ? name : '');
    if (blame) bars.push(blame);
    const seen = new Set<string>();
    for (const s of r.steps) for (const l of s.layers) seen.add(l.layer);
    otherLayers += Math.max(0, seen.size - maxLayers);
    // Non-finite steps as ranges of consecutive steps of this run (per bucket when downsampled).
    let open: { run: number; step: number; until?: number } | undefined;
    let openAt = -2;
    for (const s of [...r.steps].sort((a, b) => a.step - b.step)) {
      if (!isBadStep(s)) continue;
      const at = size > 1 ? bucketOf(s.step) : index.get(s.step)!;
      const from = size > 1 ? allSteps[at * size]! : s.step;
      const until = size > 1 ? allSteps[Math.min(allSteps.length, (at + 1) * size) - 1]! : s.step;
      if (open && (at === openAt || at === openAt + 1)) {
        if (until !== open.step) open.until = until;
      } else {
        open = until === from ? { run, step: from } : { run, step: from, until };
        bad.push(open);
      }
      openAt = at;
    }
    // The most severe mark per step (per bucket when downsampled), at the step of its first diagnosis.
    const byPlace = new Map<number, ChartMark>();
    for (const d of r.diagnoses) {
      if (d.phase === 'recovery') continue;
      const place = size > 1 ? bucketOf(d.step) : d.step;
      const had = byPlace.get(place);
      if (!had) byPlace.set(place, { run, step: d.step, severity: d.severity });
      else if (severityRank[d.severity] > severityRank[had.severity]) byPlace.set(place, { ...had, severity: d.severity });
    }
    marks.push(...byPlace.values());
  });
  const signature = [...loss, ...norm, ...layers, ...rate].map((s) => s.label).join('|') + `|log:${lossPositive}`;
  return { steps, loss, lossPositive, norm, layers, rate, heatmaps, bars, bad, marks, signature, reduced: { steps: allSteps.length, bucket: size, otherLayers } };
}

/**
 * One run's layer series: every layer in order of first appearance while there are at most `maxLayers`, else the
 * `maxLayers` with the largest finite norm (in that order too) and one {@link OTHER_LAYERS} series for the rest.
 */
function layerSeries(
  r: ChartableRun,
  run: number,
  prefix: string,
  maxLayers: number,
  length: number,
  index: ReadonlyMap<number, number>,
  reduce: (full: (number | null)[]) => (number | null)[],
): ChartSeries[] {
  const peak = new Map<string, number>(); // insertion order: first appearance
  for (const s of r.steps) {
    for (const l of s.layers) {
      const v = plotValue(l.norm, true) ?? -1;
      const had = peak.get(l.layer);
      if (had === undefined || v > had) peak.set(l.layer, v);
    }
  }
  let shown = [...peak.keys()];
  const folded = shown.length > maxLayers;
  if (folded) {
    const top = new Set([...peak.entries()].sort((a, b) => b[1] - a[1]).slice(0, maxLayers).map(([name]) => name));
    shown = shown.filter((name) => top.has(name));
  }
  const slot = new Map(shown.map((name, i) => [name, i]));
  const columns = shown.map(() => new Array<number | null>(length).fill(null));
  const other = folded ? new Array<number | null>(length).fill(null) : undefined;
  for (const s of r.steps) {
    const i = index.get(s.step)!;
    for (const l of s.layers) {
      const v = plotValue(l.norm, true);
      const k = slot.get(l.layer);
      if (k !== undefined) columns[k]![i] = v;
      else if (other && v !== null && (other[i] === null || v > other[i]!)) other[i] = v;
    }
  }
  const series: ChartSeries[] = shown.map((name, k) => {
    const layer = truncateText(name);
    return { label: `${prefix}${layer}`, run, kind: 'layer', layer, values: reduce(columns[k]!) };
  });
  if (other) series.push({ label: `${prefix}${OTHER_LAYERS}`, run, kind: 'layer', layer: OTHER_LAYERS, values: reduce(other) });
  return series;
}
