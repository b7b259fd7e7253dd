import type { DiagnosisRecord, HeaderRecord, Severity, StepRecord } from '@gradguard/core/run-log';
import { clipBoundOf } from './clip-bound';

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
  readonly kind: 'loss' | 'pre-clip' | 'post-clip' | 'clip-bound' | 'layer';
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
  /** Steps where a run's loss or gradients were NaN/Infinity (shaded). */
  readonly bad: readonly { readonly run: number; readonly step: number }[];
  /** Diagnoses that started or worsened a problem (dashed lines); recoveries are left out, as in the HTML report. */
  readonly marks: readonly ChartMark[];
  /** Changes exactly when the set of series changes: a chart is rebuilt then, and only given new data otherwise. */
  readonly signature: string;
}

/** A finite number or null (uPlot draws null as a gap); `positive` also drops values a log axis cannot show. */
export const plotValue = (v: number | null | undefined, positive = false): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || (positive && v <= 0) ? null : v;

const isBadStep = (s: StepRecord): boolean => s.nonFinite > 0 || (s.loss !== null && !Number.isFinite(s.loss));

/**
 * Lays one or two runs out for {@link mountRunCharts}, which the HTML report and the viewer both draw with: x is the
 * sorted union of the runs' step numbers, and each run contributes a loss line, pre- and post-clip global-norm lines
 * (plus its clip bound, if it had one: {@link clipBoundOf}) and one line per layer. Runs are named by `labels`
 * (default: the run's name from its header); with one run, series are not prefixed by it.
 */
export function chartData(runs: readonly ChartableRun[], labels: readonly string[] = []): ChartData {
  const stepSet = new Set<number>();
  for (const r of runs) for (const s of r.steps) stepSet.add(s.step);
  const steps = [...stepSet].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const column = (r: ChartableRun, pick: (s: StepRecord) => number | null): (number | null)[] => {
    const out = new Array<number | null>(steps.length).fill(null);
    for (const s of r.steps) out[index.get(s.step)!] = pick(s);
    return out;
  };
  const loss: ChartSeries[] = [];
  const norm: ChartSeries[] = [];
  const layers: ChartSeries[] = [];
  const bad: { run: number; step: number }[] = [];
  const marks: ChartMark[] = [];
  let lossPositive = true;
  runs.forEach((r, run) => {
    const name = labels[run] ?? r.header.name;
    const prefix = runs.length > 1 ? `${name}: ` : '';
    for (const s of r.steps) if (s.loss !== null && Number.isFinite(s.loss) && s.loss <= 0) lossPositive = false;
    loss.push({ label: `${prefix}loss`, run, kind: 'loss', values: column(r, (s) => plotValue(s.loss)) });
    norm.push({ label: `${prefix}pre-clip ‖g‖`, run, kind: 'pre-clip', values: column(r, (s) => plotValue(s.preClipNorm, true)) });
    norm.push({ label: `${prefix}post-clip ‖g‖`, run, kind: 'post-clip', values: column(r, (s) => plotValue(s.postClipNorm, true)) });
    const bound = clipBoundOf(r);
    if (bound !== undefined) {
      norm.push({ label: `${prefix}clip bound`, run, kind: 'clip-bound', values: steps.map(() => bound) });
    }
    const layerNames = [...new Set(r.steps.flatMap((s) => s.layers.map((l) => l.layer)))];
    for (const layer of layerNames) {
      layers.push({
        label: `${prefix}${layer}`,
        run,
        kind: 'layer',
        layer,
        values: column(r, (s) => plotValue(s.layers.find((l) => l.layer === layer)?.norm, true)),
      });
    }
    for (const s of r.steps) if (isBadStep(s)) bad.push({ run, step: s.step });
    for (const d of r.diagnoses) if (d.phase !== 'recovery') marks.push({ run, step: d.step, severity: d.severity });
  });
  const signature = [...loss, ...norm, ...layers].map((s) => s.label).join('|') + `|log:${lossPositive}`;
  return { steps, loss, lossPositive, norm, layers, bad, marks, signature };
}
