import type uPlot from 'uplot';
import type { ChartData } from './chart-data';

export interface RunChartsOptions {
  /** Height of each chart in CSS pixels; default 240. */
  readonly height?: number;
  /** The element of each chart's title; default `h3`. */
  readonly heading?: 'h2' | 'h3' | 'h4';
  /** When set, each chart's host element gets the id `<idPrefix>loss`, `<idPrefix>norm`, `<idPrefix>layers`, `<idPrefix>rate`. */
  readonly idPrefix?: string;
}

export interface RunCharts {
  /** Draws new data: the charts are rebuilt when the series change (see `ChartData.signature`), else given new columns. */
  update(data: ChartData): void;
  /** The uPlot instances: loss, global norm, per-layer norms, clip scale and learning rate. */
  readonly charts: readonly uPlot[];
  /** Removes the charts, their resize listener and everything this added to the element. */
  destroy(): void;
}

/**
 * Draws the three charts of one run or two runs overlaid (data from `chartData`) into `root`, with the uPlot
 * constructor given (the viewer imports it; the HTML report inlines uPlot's browser build): the loss (log axis when
 * every loss is positive), the global gradient norm before and after clipping with the clip bound, and every layer's
 * gradient norm, both on log axes. Steps whose loss or gradients were NaN/Infinity are shaded red; diagnoses that
 * start or worsen a problem are dashed lines in their severity's colour. Each run has its own colour on the loss and
 * norm charts; on the layer chart each layer has one and the second run is dashed.
 *
 * This function must stay self-contained — no reference to anything outside its own body, only browser globals —
 * because `renderHtmlReport` inlines its source text into the report's page.
 */
export function mountRunCharts(root: HTMLElement, data: ChartData, UPlot: typeof uPlot, options: RunChartsOptions = {}): RunCharts {
  const severityColor: Record<string, string> = { critical: '#cf222e', warning: '#bf8700', info: '#1a7f37' };
  const boundColor = '#cf222e';
  // Pre- and post-clip norms of a run in two different colours (not only a dash), and the second run in two more.
  const preColor = ['#0969da', '#1a7f37'];
  const postColor = ['#e16f24', '#8250df'];
  const rateColor = { 'clip-scale': ['#e16f24', '#8250df'], 'learning-rate': ['#0969da', '#1a7f37'] };
  const otherColor = '#3d444d';
  const OTHER = 'other layers (max)'; // chart-data's OTHER_LAYERS, spelled out: this function must stay self-contained
  // Layer k's colour: 20 colours picked greedily for the largest smallest CIELAB distance (ΔE ≥ 30 between any two of
  // them and the "other layers" grey), enough for the DISPLAY_LIMITS.maxLayerSeries + 1 lines the chart draws; past
  // 20 (a larger maxLayerSeries), golden-angle hues (137.5° apart) at alternating lightness, never repeating.
  const qualitative = ['#4e79a7', '#f28e2b', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#2020df', '#df20bf',
    '#20df20', '#1f1f7a', '#df2030', '#861339', '#afdf20', '#995cd6', '#867313', '#20dfaf', '#861373', '#df2080'];
  const layerColor = (k: number): string => {
    if (k < qualitative.length) return qualitative[k]!;
    const h = ((k - qualitative.length) * 137.508 + 15) % 360;
    const sat = 0.7;
    const light = [0.42, 0.56, 0.34][k % 3]!;
    const a = sat * Math.min(light, 1 - light);
    const channel = (n: number): string => {
      const m = (n + h / 30) % 12;
      const v = light - a * Math.max(-1, Math.min(m - 3, 9 - m, 1));
      return Math.round(v * 255).toString(16).padStart(2, '0');
    };
    return `#${channel(0)}${channel(8)}${channel(4)}`;
  };
  const height = options.height ?? 240;
  // Steps are whole numbers: no ticks at 2.5.
  const stepIncrements = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
  const keys = ['loss', 'norm', 'layers', 'rate'] as const;
  const titles = { loss: 'Loss', norm: 'Global gradient norm', layers: 'Per-layer gradient norms', rate: 'Clip scale and learning rate' };

  const panels = keys.map((key) => {
    const section = document.createElement('section');
    section.className = 'chart-panel';
    section.dataset.chart = key;
    const title = document.createElement(options.heading ?? 'h3');
    title.textContent = titles[key];
    const note = document.createElement('p');
    note.className = 'note';
    const host = document.createElement('div');
    host.className = 'chart';
    if (options.idPrefix !== undefined) host.id = options.idPrefix + key;
    section.append(title, note, host);
    root.append(section);
    return { key, note, host };
  });

  let current = data;
  let charts: uPlot[] = [];
  let signature = '';
  const width = (): number => Math.max(300, Math.min(1100, root.clientWidth - 4));

  const markers = (u: uPlot): void => {
    const { ctx } = u;
    const { left, top, width: w, height: h } = u.bbox;
    ctx.save();
    ctx.fillStyle = 'rgba(207,34,46,0.18)';
    for (const b of current.bad) {
      const x0 = Math.max(left, u.valToPos(b.step - 0.5, 'x', true));
      const x1 = Math.min(left + w, u.valToPos((b.until ?? b.step) + 0.5, 'x', true));
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), h);
    }
    ctx.setLineDash([5, 4]);
    for (const m of current.marks) {
      const x = u.valToPos(m.step, 'x', true);
      ctx.strokeStyle = severityColor[m.severity] ?? '#6e7781';
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + h);
      ctx.stroke();
    }
    ctx.restore();
  };

  // Run-log number style (1.5e8, 0.25); on a log axis only the powers of ten are labelled (uPlot ticks every 1..9 x 10^k).
  const tick = (v: number): string => {
    if (v === 0) return '0';
    const r = Number(v.toPrecision(3));
    const a = Math.abs(r);
    return a >= 1e4 || a < 1e-3 ? r.toExponential().replace('e+', 'e') : String(r);
  };
  const labels = (log: boolean) => (_u: uPlot, splits: number[]): string[] =>
    splits.map((v) => {
      if (v === null || v === undefined) return '';
      if (!log) return tick(v);
      const e = Math.log10(v);
      return Math.abs(e - Math.round(e)) < 1e-9 ? tick(v) : '';
    });

  const columns = (d: ChartData, key: (typeof keys)[number]): uPlot.AlignedData =>
    [d.steps as number[], ...d[key].map((s) => s.values as (number | null)[])] as uPlot.AlignedData;

  const build = (d: ChartData): void => {
    for (const c of charts) c.destroy();
    const layerNames = [...new Set(d.layers.map((s) => s.layer))].filter((name) => name !== OTHER);
    const hasBound = d.norm.some((s) => s.kind === 'clip-bound');
    const reduced = d.reduced;
    const sampled =
      reduced.bucket > 1
        ? ` Downsampled: ${reduced.steps.toLocaleString('en-US')} steps in buckets of ${reduced.bucket}, each drawn as its smallest and largest value (spikes kept).`
        : '';
    const notes = {
      loss: 'Gaps: the loss was NaN or Infinity. Red: steps with NaN/Infinity values. Dashed: diagnoses.' + sampled,
      norm:
        `Before clipping (solid, ${d.norm.length > 3 ? 'blue and green' : 'blue'}), after clipping (dotted, ${d.norm.length > 3 ? 'orange and purple' : 'orange'})${hasBound ? ' and the clip bound (red dashed)' : ''}; log scale. ` +
        'Red: steps with NaN/Infinity gradients. Dashed: diagnoses.' +
        sampled,
      layers:
        'Log scale: a layer whose norm runs away from the others by orders of magnitude explodes or vanishes.' +
        (reduced.otherLayers > 0
          ? ` The layers with the largest norms are drawn; ${reduced.otherLayers.toLocaleString('en-US')} more are one line, their largest norm per step.`
          : '') +
        sampled,
      rate:
        'Clip scale (post-clip ÷ pre-clip norm, left axis: 1 means nothing was clipped, 1e-3 a thousandfold cut) and the ' +
        'learning rate in force (dashed, right axis), both log scale. Gaps: the scale was 0 (update skipped) or not finite.' +
        sampled,
    };
    charts = panels.map(({ key, note, host }) => {
      note.textContent = notes[key];
      const log = key === 'loss' ? d.lossPositive : true;
      const series = d[key].map((s) => {
        const r = s.run % 2;
        const style =
          s.kind === 'pre-clip'
            ? { stroke: preColor[r]!, width: 1.5 }
            : s.kind === 'post-clip'
              ? { stroke: postColor[r]!, width: 1.5, dash: [2, 3] }
              : s.kind === 'clip-bound'
                ? { stroke: boundColor, width: 1, dash: [6, 4] }
                : s.kind === 'layer'
                  ? {
                      stroke: s.layer === OTHER ? otherColor : layerColor(layerNames.indexOf(s.layer!)),
                      width: 1.5,
                      ...(s.run > 0 ? { dash: [5, 3] } : {}),
                    }
                  : s.kind === 'clip-scale'
                    ? { stroke: rateColor['clip-scale'][r]!, width: 1.5 }
                    : s.kind === 'learning-rate'
                      ? { stroke: rateColor['learning-rate'][r]!, width: 1.5, dash: [6, 3], scale: 'lr' }
                      : { stroke: preColor[r]!, width: 1.5 };
        return { label: s.label, spanGaps: false, ...style };
      });
      const grid = { stroke: '#eaeef2', width: 1 };
      const opts: uPlot.Options = {
        width: width(),
        height,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {}, ...(key === 'rate' ? { lr: { distr: 3 } } : {}) },
        axes: [
          { label: 'step', grid, incrs: stepIncrements },
          { size: 64, grid, values: labels(log) },
          ...(key === 'rate' ? [{ scale: 'lr', side: 1, size: 64, grid: { show: false }, values: labels(true) }] : []),
        ],
        legend: { live: false },
        series: [{ label: 'step' }, ...series],
        hooks: { draw: [markers] },
      };
      return new UPlot(opts, columns(d, key), host);
    });
  };

  const onResize = (): void => {
    for (const c of charts) c.setSize({ width: width(), height });
  };
  window.addEventListener('resize', onResize);

  const update = (d: ChartData): void => {
    current = d;
    if (d.signature !== signature || charts.length === 0) {
      signature = d.signature;
      build(d);
      return;
    }
    panels.forEach(({ key }, i) => charts[i]!.setData(columns(d, key)));
  };
  update(data);

  return {
    get charts() {
      return charts;
    },
    update,
    destroy() {
      window.removeEventListener('resize', onResize);
      for (const c of charts) c.destroy();
      charts = [];
      for (const p of panels) p.host.parentElement?.remove();
    },
  };
}
