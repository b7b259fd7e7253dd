import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '@gradguard/core/run-log';
import type { ChartData, ChartSeries } from './chart-data';

// The same chart library and look as the HTML report of @gradguard/reporter: uPlot, its palette, log axes for norms,
// red shading where values went non-finite, dashed lines at diagnoses.
const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#e16f24', '#6e7781', '#bc4c00', '#116329'];
const SEVERITY_COLOR = { critical: '#cf222e', warning: '#bf8700', info: '#1a7f37' } as const;
/** Each run has its own colour on the loss and global-norm charts; on the layer chart, the second run is dashed. */
const RUN_COLOR = [PALETTE[0]!, PALETTE[2]!];
const HEIGHT = 240;
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

export interface RunCharts {
  /** Draws `data`: the charts are rebuilt when the series change, and only given the new columns otherwise. */
  update(data: ChartData): void;
  /** The live uPlot instances (loss, global norm, per-layer norm), for tests and resizing. */
  readonly charts: readonly uPlot[];
  destroy(): void;
}

function strokeOf(s: ChartSeries, layerIndex: number): Pick<uPlot.Series, 'stroke' | 'dash' | 'width'> {
  const color = RUN_COLOR[s.run % RUN_COLOR.length]!;
  switch (s.kind) {
    case 'loss':
      return { stroke: color, width: 1.5 };
    case 'pre-clip':
      return { stroke: color, width: 1.5 };
    case 'post-clip':
      return { stroke: color, width: 1, dash: [2, 3] };
    case 'clip-bound':
      return { stroke: PALETTE[1]!, width: 1, dash: [6, 4] };
    case 'layer':
      return { stroke: PALETTE[layerIndex % PALETTE.length]!, width: 1.5, ...(s.run > 0 ? { dash: [5, 3] } : {}) };
  }
}

/**
 * Three charts in `root` — loss, global gradient norm (pre/post clip, clip bound) and per-layer gradient norms —
 * for one run or two runs overlaid. Used both for opened run logs and for live training, where `update` is called
 * every step.
 */
export function createRunCharts(root: HTMLElement): RunCharts {
  const panels = (['loss', 'norm', 'layers'] as const).map((key) => {
    const title = { loss: 'Loss', norm: 'Global gradient norm', layers: 'Per-layer gradient norms' }[key];
    const note = {
      loss: 'Gaps: the loss was NaN or Infinity.',
      norm: 'Before clipping (solid), after (dotted) and the clip bound (red dashed); log scale. Red: steps with NaN/Infinity gradients. Dashed: diagnoses.',
      layers: 'Log scale: a layer whose norm runs away from the others explodes or vanishes.',
    }[key];
    const section = document.createElement('section');
    section.className = 'chart-panel';
    section.dataset.chart = key;
    const h = document.createElement('h3');
    h.textContent = title;
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = note;
    const host = document.createElement('div');
    host.className = 'chart';
    section.append(h, p, host);
    root.append(section);
    return { key, host };
  });
  let charts: uPlot[] = [];
  let signature = '';
  let current: ChartData | undefined;
  const width = (): number => Math.max(300, Math.min(1100, root.clientWidth - 4));

  const markers = (u: uPlot): void => {
    const d = current;
    if (!d) return;
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.fillStyle = 'rgba(207,34,46,0.18)';
    for (const b of d.bad) {
      const x0 = u.valToPos(b.step - 0.5, 'x', true);
      const x1 = u.valToPos(b.step + 0.5, 'x', true);
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    }
    ctx.setLineDash([5, 4]);
    for (const m of d.marks) {
      const x = u.valToPos(m.step, 'x', true);
      ctx.strokeStyle = SEVERITY_COLOR[m.severity];
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  };

  const columns = (d: ChartData, series: readonly ChartSeries[]): uPlot.AlignedData =>
    [d.steps as number[], ...series.map((s) => s.values as (number | null)[])] as uPlot.AlignedData;

  const build = (d: ChartData): void => {
    for (const c of charts) c.destroy();
    const layerNames = [...new Set(d.layers.map((s) => s.layer))];
    charts = panels.map(({ key, host }) => {
      const series = d[key];
      const log = key === 'loss' ? d.lossPositive : true;
      const opts: uPlot.Options = {
        width: width(),
        height: HEIGHT,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        // Whole steps only on x; y labels in the run log's number format (1.5e+8, not 150,000,000).
        axes: [
          { label: 'step', incrs: STEP_INCREMENTS },
          { size: 64, values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : formatNumber(v))) },
        ],
        legend: { live: false },
        series: [
          { label: 'step' },
          ...series.map((s) => ({ label: s.label, spanGaps: false, ...strokeOf(s, layerNames.indexOf(s.layer)) })),
        ],
        hooks: { draw: [markers] },
      };
      return new uPlot(opts, columns(d, series), host);
    });
  };

  const onResize = (): void => {
    for (const c of charts) c.setSize({ width: width(), height: HEIGHT });
  };
  window.addEventListener('resize', onResize);

  return {
    get charts() {
      return charts;
    },
    update(d) {
      current = d;
      if (d.signature !== signature || charts.length === 0) {
        signature = d.signature;
        build(d);
        return;
      }
      panels.forEach(({ key }, i) => charts[i]!.setData(columns(d, d[key])));
    },
    destroy() {
      window.removeEventListener('resize', onResize);
      for (const c of charts) c.destroy();
      charts = [];
      root.replaceChildren();
    },
  };
}
