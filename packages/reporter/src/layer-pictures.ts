import type { ChartData } from './chart-data';

export interface LayerPicturesOptions {
  /** The element of each picture's title; default `h3`. */
  readonly heading?: 'h2' | 'h3' | 'h4';
  /** When set, each picture's canvas gets the id `<idPrefix>heatmap-<run>` or `<idPrefix>bars-<run>`. */
  readonly idPrefix?: string;
}

export interface LayerPictures {
  /** Draws new data (the pictures are cheap canvases: redrawn whole). */
  update(data: ChartData): void;
  /** Removes the pictures, their resize listener and everything this added to the element. */
  destroy(): void;
}

/**
 * Draws the layer pictures of one run or two (data from `chartData`) into `root` on plain canvases: for each run the
 * layer × step heatmap of log10 ‖g‖ (rows: layers input to output; colour from cold blue to hot red over the run's range;
 * NaN cells magenta, ±Infinity black, zero grey, unmeasured steps blank; dashed lines at diagnoses), and the per-layer
 * norms at the step of its first diagnosis as bars on a log axis, the blamed layer red.
 *
 * Hand-drawn rather than with a chart library: a heatmap is one `fillRect` per cell, which uPlot (lines and bars) does
 * not offer, and heatmap-capable libraries cost 100 KB or more minified in the viewer and in every report.
 *
 * The geometry of each picture is written on its canvas (`data-left`, `data-top`, `data-cell-w`, `data-cell-h`,
 * `data-rows`, `data-columns`; for bars `data-row-h` and `data-bars`), so a screenshot can be checked cell by cell.
 * This function must stay self-contained — only browser globals — because `renderHtmlReport` inlines its source text.
 */
export function mountLayerPictures(root: HTMLElement, data: ChartData, options: LayerPicturesOptions = {}): LayerPictures {
  // A diverging blue-to-red ramp used as a sequential scale (cold to hot); NaN, Infinity and zero lie outside it.
  const ramp = ['#313695', '#4575b4', '#74add1', '#abd9e9', '#e0f3f8', '#fee090', '#fdae61', '#f46d43', '#d73027', '#a50026'];
  const special = { nan: '#ff00ff', inf: '#000000', zero: '#afb8c1', none: '#f6f8fa' };
  const severityColor: Record<string, string> = { critical: '#cf222e', warning: '#bf8700', info: '#1a7f37' };
  const blamedColor = '#cf222e';
  const barColor = '#8c959f';
  const font = '11px system-ui,-apple-system,"Segoe UI",sans-serif';
  const container = document.createElement('div');
  container.className = 'layer-pictures';
  root.append(container);
  let current = data;

  const hex = (c: string): number[] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const rampRgb = ramp.map(hex);
  /** Colour of t in [0, 1] along the ramp. */
  const colorAt = (t: number): string => {
    const x = Math.max(0, Math.min(1, t)) * (rampRgb.length - 1);
    const i = Math.min(rampRgb.length - 2, Math.floor(x));
    const f = x - i;
    const [a, b] = [rampRgb[i]!, rampRgb[i + 1]!];
    return `rgb(${a.map((v, k) => Math.round(v + (b[k]! - v) * f)).join(',')})`;
  };
  const width = (): number => Math.max(300, Math.min(1100, root.clientWidth - 4));
  const decade = (k: number): string => (k === 0 ? '1' : k === 1 ? '10' : `1e${k}`);
  const fmt = (v: number): string => {
    const n = 10 ** v;
    return n >= 1e4 || n < 1e-3 ? n.toExponential(2).replace('e+', 'e') : String(Number(n.toPrecision(3)));
  };

  /** A titled section with a note and a canvas of `w` × `h` CSS pixels (backed at the device pixel ratio). */
  const panel = (title: string, noteText: string, id: string | undefined, w: number, h: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } => {
    const section = document.createElement('section');
    section.className = 'chart-panel';
    const head = document.createElement(options.heading ?? 'h3');
    head.textContent = title;
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = noteText;
    const canvas = document.createElement('canvas');
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    canvas.style.display = 'block';
    if (id !== undefined) canvas.id = id;
    section.append(head, note, canvas);
    container.append(section);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(dpr, dpr);
    ctx.font = font;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    return { canvas, ctx };
  };
  const setGeometry = (canvas: HTMLCanvasElement, g: Record<string, number>): void => {
    for (const [k, v] of Object.entries(g)) canvas.setAttribute(`data-${k}`, String(v));
  };
  const labelWidth = (ctx: CanvasRenderingContext2D, names: readonly string[]): number =>
    Math.min(200, Math.max(40, ...names.map((n) => ctx.measureText(n).width + 10)));
  /** `name` shortened with an ellipsis to fit `w` pixels. */
  const fit = (ctx: CanvasRenderingContext2D, name: string, w: number): string => {
    if (ctx.measureText(name).width <= w) return name;
    let lo = 0;
    let hi = name.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(`${name.slice(0, mid)}…`).width <= w) lo = mid;
      else hi = mid - 1;
    }
    return `${name.slice(0, lo)}…`;
  };
  const swatch = (ctx: CanvasRenderingContext2D, x: number, y: number, color: string, text: string): void => {
    ctx.fillStyle = color;
    ctx.fillRect(x, y, 12, 10);
    ctx.strokeStyle = '#d0d7de';
    ctx.strokeRect(x + 0.5, y + 0.5, 11, 9);
    ctx.fillStyle = '#1b1f24';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, x + 16, y + 5);
  };

  const drawHeatmap = (m: ChartData['heatmaps'][number]): void => {
    const nR = m.rows.length;
    const nC = m.from.length;
    const cellH = Math.max(4, Math.min(24, Math.floor(420 / nR)));
    const top = 8;
    const plotH = nR * cellH;
    const legendH = 5 * 16;
    const h = top + Math.max(plotH, legendH) + 34;
    const w = width();
    const grouped = m.layersPerRow > 1 ? ` Past ${nR} rows, ${m.layersPerRow} consecutive layers share a row.` : '';
    const bucketed = m.stepsPerColumn > 1 ? ` ${m.steps.toLocaleString('en-US')} steps in columns of ${m.stepsPerColumn}; a column shows its largest norm, NaN first.` : '';
    const { canvas, ctx } = panel(
      `Layer × step heatmap of log10 ‖g‖${m.label ? ` — ${m.label}` : ''}`,
      `Rows: layers, input (top) to output (bottom); columns: steps. Blue is small, red is large (from the run's smallest norm up; red is at least a millionfold above it); magenta: NaN, black: ±Infinity, grey: exactly 0, blank: not measured. An explosion shows as red starting in one row and spreading. Dashed: diagnoses.${grouped}${bucketed}`,
      options.idPrefix !== undefined ? `${options.idPrefix}heatmap-${m.run}` : undefined,
      w,
      h,
    );
    const left = labelWidth(ctx, m.rows);
    const plotW = Math.max(60, w - left - 96);
    const cellW = plotW / nC;
    // At least six decades from the coldest to the hottest colour: a healthy run, whose layers stay within a few
    // decades of each other, never turns red; an exploding one spans far more.
    const lo = Math.floor(m.min);
    const hi = Math.max(lo + 6, Math.ceil(m.max));
    for (let r = 0; r < nR; r++) {
      for (let c = 0; c < nC; c++) {
        const v = m.cells[r * nC + c];
        ctx.fillStyle =
          v === null || v === undefined ? special.none : v === 'nan' ? special.nan : v === 'inf' ? special.inf : v === 'zero' ? special.zero : colorAt((v - lo) / (hi - lo));
        const x0 = Math.floor(left + c * cellW);
        const x1 = Math.floor(left + (c + 1) * cellW);
        ctx.fillRect(x0, top + r * cellH, Math.max(1, x1 - x0), cellH);
      }
    }
    // Row labels (every row when they fit, else every k-th).
    ctx.fillStyle = '#1b1f24';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const every = Math.ceil(12 / cellH);
    for (let r = 0; r < nR; r += every) ctx.fillText(fit(ctx, m.rows[r]!, left - 10), left - 4, top + (r + 0.5) * cellH);
    // Step axis: at most ~8 round step numbers, each at the column that holds it.
    const first = m.from[0]!;
    const last = m.until[nC - 1]!;
    const span = Math.max(1, last - first);
    let inc = 1;
    for (const k of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6]) {
      inc = k;
      if (span / k <= 8) break;
    }
    const columnOf = (step: number): number => {
      let a = 0;
      let b = nC - 1;
      while (a < b) {
        const mid = (a + b + 1) >> 1;
        if (m.from[mid]! <= step) a = mid;
        else b = mid - 1;
      }
      return a;
    };
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.strokeStyle = '#57606a';
    for (let s = Math.ceil(first / inc) * inc; s <= last; s += inc) {
      const x = left + (columnOf(s) + 0.5) * cellW;
      ctx.beginPath();
      ctx.moveTo(x, top + plotH);
      ctx.lineTo(x, top + plotH + 4);
      ctx.stroke();
      ctx.fillStyle = '#1b1f24';
      ctx.fillText(String(s), x, top + plotH + 6);
    }
    ctx.fillText('step', left + plotW / 2, top + plotH + 20);
    // Diagnoses of this run: dashed lines at their columns.
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    for (const mark of current.marks) {
      if (mark.run !== m.run || mark.step < first || mark.step > last) continue;
      const x = left + (columnOf(mark.step) + 0.5) * cellW;
      ctx.strokeStyle = severityColor[mark.severity] ?? '#57606a';
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + plotH);
      ctx.stroke();
    }
    ctx.restore();
    // Colour bar, hot at the top, labelled in powers of ten; then the swatches of the values outside the ramp.
    const barX = left + plotW + 12;
    const barH = Math.max(40, Math.min(plotH, 160));
    for (let y = 0; y < barH; y++) {
      ctx.fillStyle = colorAt(1 - y / (barH - 1));
      ctx.fillRect(barX, top + y, 12, 1);
    }
    ctx.fillStyle = '#1b1f24';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    const step = Math.ceil((hi - lo) / 6);
    for (let k = lo; k <= hi; k += step) ctx.fillText(decade(k), barX + 16, top + (1 - (k - lo) / (hi - lo)) * (barH - 1));
    const sy = top + barH + 8;
    swatch(ctx, barX, sy, special.nan, 'NaN');
    swatch(ctx, barX, sy + 14, special.inf, '±Inf');
    swatch(ctx, barX, sy + 28, special.zero, '0');
    setGeometry(canvas, { left, top, 'cell-w': cellW, 'cell-h': cellH, rows: nR, columns: nC, lo, hi });
  };

  const drawBars = (b: ChartData['bars'][number]): void => {
    const rowH = 18;
    const top = 6;
    const n = b.bars.length;
    const w = width();
    const h = top + n * rowH + 34;
    const others = b.otherLayers > 0 ? ` ${b.otherLayers.toLocaleString('en-US')} more layers with smaller norms are left out.` : '';
    const at = b.measuredAt === b.step ? `step ${b.step}` : `step ${b.measuredAt} (the last measured before step ${b.step})`;
    const { canvas, ctx } = panel(
      `Per-layer gradient norms at the first diagnosis${b.label ? ` — ${b.label}` : ''}`,
      `${b.severity} ${b.problem} at step ${b.step}${b.blamed !== undefined ? `, blamed on layer ${b.blamed} (red)` : ''}. Norms at ${at}, log scale; magenta: NaN, black: ±Infinity.${others}`,
      options.idPrefix !== undefined ? `${options.idPrefix}bars-${b.run}` : undefined,
      w,
      h,
    );
    const names = b.bars.map((x) => x.layer);
    const left = labelWidth(ctx, names);
    const plotW = Math.max(60, w - left - 80);
    const finite = b.bars.map((x) => x.value).filter((v): v is number => typeof v === 'number');
    const lo = finite.length > 0 ? Math.floor(Math.min(...finite)) - 1 : -1;
    const hi = Math.max(lo + 1, finite.length > 0 ? Math.ceil(Math.max(...finite)) : 1);
    const xOf = (v: number): number => left + ((v - lo) / (hi - lo)) * plotW;
    ctx.strokeStyle = '#eaeef2';
    for (let k = lo; k <= hi; k++) {
      ctx.beginPath();
      ctx.moveTo(Math.round(xOf(k)) + 0.5, top);
      ctx.lineTo(Math.round(xOf(k)) + 0.5, top + n * rowH);
      ctx.stroke();
    }
    b.bars.forEach((bar, i) => {
      const y = top + i * rowH;
      if (bar.blamed) {
        ctx.fillStyle = '#ffebe9';
        ctx.fillRect(0, y, left + plotW + 80, rowH);
      }
      const v = bar.value;
      const end = typeof v === 'number' ? Math.max(left + 2, xOf(v)) : v === 'zero' ? left : left + plotW;
      ctx.fillStyle = v === 'nan' ? special.nan : v === 'inf' ? special.inf : bar.blamed ? blamedColor : barColor;
      ctx.fillRect(left, y + 3, end - left, rowH - 6);
      if (bar.blamed && typeof v !== 'number') {
        ctx.strokeStyle = blamedColor;
        ctx.lineWidth = 3;
        ctx.strokeRect(left + 1.5, y + 2.5, end - left - 3, rowH - 5);
        ctx.lineWidth = 1;
      }
      ctx.fillStyle = bar.blamed ? blamedColor : '#1b1f24';
      ctx.font = bar.blamed ? `bold ${font}` : font;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(fit(ctx, bar.layer, left - 10), left - 4, y + rowH / 2);
      ctx.textAlign = 'left';
      ctx.fillStyle = '#1b1f24';
      const text = v === 'nan' ? 'NaN' : v === 'inf' ? '±Infinity' : v === 'zero' ? '0' : fmt(v);
      ctx.fillText(text, typeof v === 'number' || v === 'zero' ? end + 4 : left + plotW + 4, y + rowH / 2);
      ctx.font = font;
    });
    ctx.fillStyle = '#1b1f24';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tickEvery = Math.ceil((hi - lo) / 8);
    for (let k = lo; k <= hi; k += tickEvery) ctx.fillText(decade(k), xOf(k), top + n * rowH + 4);
    ctx.fillText('gradient norm ‖g‖', left + plotW / 2, top + n * rowH + 18);
    setGeometry(canvas, { left, top, 'row-h': rowH, bars: n, lo, hi, 'plot-w': plotW });
  };

  const draw = (): void => {
    container.replaceChildren();
    for (const m of current.heatmaps) drawHeatmap(m);
    for (const b of current.bars) drawBars(b);
    if (current.heatmaps.length > 0 && current.bars.length === 0) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = 'No diagnosis: no per-layer picture of a failing step to show.';
      container.append(p);
    }
  };
  const onResize = (): void => draw();
  window.addEventListener('resize', onResize);
  draw();
  return {
    update(d: ChartData) {
      current = d;
      draw();
    },
    destroy() {
      window.removeEventListener('resize', onResize);
      container.remove();
    },
  };
}
