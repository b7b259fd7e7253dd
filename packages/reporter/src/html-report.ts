import { type DiagnosisRecord, type RunLog, formatNumber as fmt } from '@gradguard/core/run-log';
import { summarizeRun } from './summary';

/** The chart library the page inlines: uPlot's IIFE build (defines `window.uPlot`) and its stylesheet. */
export interface ChartAssets {
  readonly script: string;
  readonly css: string;
}

export interface HtmlReportOptions {
  /** Page title; default the run's name. */
  readonly title?: string;
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`). */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

/** A finite number or null (uPlot draws null as a gap); `positive` also drops values a log axis cannot show. */
const plot = (v: number | null, positive = false): number | null =>
  v === null || !Number.isFinite(v) || (positive && v <= 0) ? null : v;

/** The clip bound of a run: from its config when it says so, else the post-clip norm of the steps that were clipped. */
export function clipBoundOf(log: RunLog): number | undefined {
  const c = log.header.config;
  for (const key of ['clipGlobalNorm', 'maxNorm']) {
    const v = c[key];
    if (typeof v === 'number' && v > 0) return v;
  }
  const clipped = log.steps.filter((s) => s.scale < 1 && Number.isFinite(s.postClipNorm)).map((s) => s.postClipNorm);
  if (clipped.length === 0) return undefined;
  clipped.sort((a, b) => a - b);
  return clipped[Math.floor(clipped.length / 2)];
}

function diagnosisHtml(d: DiagnosisRecord): string {
  const advice = d.advice.map((a) => `<li><code>${esc(a.remedy)}</code> ${esc(a.detail)}</li>`).join('');
  return (
    `<li class="diag ${d.severity}"><div class="head"><span class="sev">${esc(d.severity)}</span> ` +
    `step ${d.step} · <b>${esc(d.problem)}</b>${d.layer ? ` in layer <code>${esc(d.layer)}</code>` : ''} (${esc(d.phase)})</div>` +
    `<div class="msg">${esc(d.message)}</div>${advice ? `<ul class="advice">${advice}</ul>` : ''}</li>`
  );
}

/**
 * One self-contained HTML page for a run: a summary, the diagnoses with their advice, and charts of the loss, the
 * global gradient norm against the clip bound (pre- and post-clip), and every layer's gradient norm over steps on a
 * log axis. The chart library is inlined from `assets`, so the file opens offline and can be mailed around. Steps
 * where gradients were not finite are shaded red; diagnoses are marked with dashed lines.
 */
export function renderHtmlReport(log: RunLog, assets: ChartAssets, options: HtmlReportOptions = {}): string {
  const h = log.header;
  const title = options.title ?? `gradguard report — ${h.name}`;
  const summary = summarizeRun(log);
  const layers = [...new Set(log.steps.flatMap((s) => s.layers.map((l) => l.layer)))];
  const bound = clipBoundOf(log);
  const data = {
    steps: log.steps.map((s) => s.step),
    loss: log.steps.map((s) => plot(s.loss)),
    lossPositive: log.steps.every((s) => s.loss === null || !Number.isFinite(s.loss) || s.loss > 0),
    pre: log.steps.map((s) => plot(s.preClipNorm, true)),
    post: log.steps.map((s) => plot(s.postClipNorm, true)),
    bound: bound ?? null,
    layers,
    layerNorms: layers.map((name) => log.steps.map((s) => plot(s.layers.find((l) => l.layer === name)?.norm ?? null, true))),
    bad: log.steps.filter((s) => s.nonFinite > 0 || (s.loss !== null && !Number.isFinite(s.loss))).map((s) => s.step),
    marks: log.diagnoses.filter((d) => d.phase !== 'recovery').map((d) => ({ step: d.step, severity: d.severity })),
  };
  const rows: [string, string][] = [
    ['model', h.model ? `${h.model.name} (${h.model.params.toLocaleString('en-US')} params, ${h.model.layers.length} layers)` : '—'],
    ['backend', h.backend ?? '—'],
    ['started', h.startedAt],
    ['status', log.end ? `${log.end.status}${log.end.reason ? ` — ${log.end.reason}` : ''}` : log.truncated ? 'unfinished (log cut off)' : 'unfinished'],
    ['steps', String(summary.steps)],
    ['first non-finite step', summary.firstNonFiniteStep === null ? 'none' : String(summary.firstNonFiniteStep)],
    ['final loss', summary.finalLoss === null ? '—' : fmt(summary.finalLoss)],
    ['largest pre-clip ‖g‖', fmt(summary.maxPreClipNorm)],
    ['clip bound', bound === undefined ? 'none' : fmt(bound)],
    ['steps clipped', String(summary.clippedSteps)],
  ];
  const config = Object.entries(h.config)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`)
    .join('');
  const diagnoses = log.diagnoses.length
    ? `<ul class="diags">${log.diagnoses.map(diagnosisHtml).join('')}</ul>`
    : '<p class="ok">No problems were diagnosed in this run.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@gradguard/reporter">
<title>${esc(title)}</title>
<style>${assets.css}</style>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table.kv{border-collapse:collapse}table.kv th{text-align:left;font-weight:600;padding:2px 16px 2px 0;vertical-align:top}table.kv td{padding:2px 0}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f2f4f7;padding:1px 4px;border-radius:3px}
ul.diags{list-style:none;padding:0}li.diag{border-left:4px solid #888;padding:6px 10px;margin:8px 0;background:#f8f9fb}
li.diag.critical{border-color:#cf222e}li.diag.warning{border-color:#bf8700}li.diag.info{border-color:#1a7f37}
.sev{text-transform:uppercase;font-size:11px;font-weight:700;letter-spacing:.04em}.critical .sev{color:#cf222e}.warning .sev{color:#9a6700}.info .sev{color:#1a7f37}
ul.advice{margin:4px 0 0;padding-left:20px;color:#444}.ok{color:#1a7f37}.chart{margin:8px 0 18px}.note{color:#57606a;font-size:12px}
</style>
</head>
<body>
<h1>${esc(h.name)}</h1>
<p class="note">run ${esc(h.runId)} · written by @gradguard/reporter</p>
<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Diagnoses</h2>
${diagnoses}
<h2>Loss</h2><div class="chart" id="chart-loss"></div>
<h2>Global gradient norm</h2><p class="note">Before clipping, after clipping${bound === undefined ? '' : ', and the clip bound'}; log scale. Red: steps with NaN/Infinity gradients. Dashed: diagnoses.</p><div class="chart" id="chart-norm"></div>
<h2>Per-layer gradient norms</h2><p class="note">Log scale: layers whose norms drift apart by orders of magnitude explode or vanish.</p><div class="chart" id="chart-layers"></div>
<h2>Configuration</h2>
<table class="kv">${config || '<tr><td>none recorded</td></tr>'}</table>
<script type="application/json" id="gradguard-data">${scriptJson(data)}</script>
<script>${assets.script}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('gradguard-data').textContent);
  var palette = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#e16f24', '#6e7781', '#bc4c00', '#116329'];
  function width() { return Math.max(320, Math.min(960, document.body.clientWidth - 8)); }
  function markers(u) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    d.bad.forEach(function (s) {
      var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
      var x0 = Math.max(left, u.valToPos(s - 0.5, 'x', true)), x1 = Math.min(right, u.valToPos(s + 0.5, 'x', true));
      ctx.fillStyle = 'rgba(207,34,46,0.18)';
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    });
    ctx.setLineDash([5, 4]);
    d.marks.forEach(function (m) {
      var x = u.valToPos(m.step, 'x', true);
      ctx.strokeStyle = m.severity === 'critical' ? '#cf222e' : m.severity === 'warning' ? '#bf8700' : '#1a7f37';
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
    });
    ctx.restore();
  }
  function tick(v) {
    if (v === 0) return '0';
    var a = Math.abs(v);
    return a >= 1e4 || a < 1e-3 ? v.toExponential(0).replace('e+', 'e') : String(+v.toPrecision(3));
  }
  function chart(id, series, columns, log) {
    var grid = { stroke: '#eaeef2', width: 1 };
    var opts = {
      width: width(), height: 280,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [
        // Steps are integers: no ticks at 2.5.
        { label: 'step', grid: grid, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] },
        {
          size: 60, grid: grid,
          // On a log axis label only the powers of ten; uPlot puts a tick at every 1..9 x 10^k.
          values: function (u, splits) {
            return splits.map(function (v) {
              if (!log) return tick(v);
              var e = Math.log10(v);
              return Math.abs(e - Math.round(e)) < 1e-9 ? tick(v) : '';
            });
          }
        }
      ],
      series: [{ label: 'step' }].concat(series),
      hooks: { draw: [markers] }
    };
    return new uPlot(opts, [d.steps].concat(columns), document.getElementById(id));
  }
  var charts = [];
  charts.push(chart('chart-loss', [{ label: 'loss', stroke: palette[0], width: 1.5, spanGaps: false }], [d.loss], d.lossPositive));
  var normSeries = [{ label: 'pre-clip ‖g‖', stroke: palette[0], width: 1.5 }, { label: 'post-clip ‖g‖', stroke: palette[2], width: 1.5 }];
  var normCols = [d.pre, d.post];
  if (d.bound !== null) {
    normSeries.push({ label: 'clip bound', stroke: palette[1], dash: [6, 4], width: 1 });
    normCols.push(d.steps.map(function () { return d.bound; }));
  }
  charts.push(chart('chart-norm', normSeries, normCols, true));
  charts.push(chart('chart-layers', d.layers.map(function (name, i) { return { label: name, stroke: palette[i % palette.length], width: 1.5 }; }), d.layerNorms, true));
  window.gradguardCharts = charts;
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.setSize({ width: width(), height: 280 }); }); });
})();
</script>
</body>
</html>
`;
}
