import type { RunLog } from '@gradguard/core/run-log/encode';
import { chartData } from './chart-data';
import { diagnosesHtml } from './diagnosis-html';
import { escapeHtml as esc } from './html';
import { DISPLAY_LIMITS, truncateText } from './limits';
import { mountLayerPictures } from './layer-pictures';
import { mountRunCharts } from './run-charts';
import { sha256Base64 } from './sha256';
import { summaryRows } from './summary';

/** The chart library the page inlines: uPlot's IIFE build (defines `window.uPlot`) and its stylesheet. */
export interface ChartAssets {
  readonly script: string;
  readonly css: string;
}

export interface HtmlReportOptions {
  /** Page title; default the run's name. */
  readonly title?: string;
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`). */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

/** An HTML parser turns CR and CRLF into LF before a script's text is hashed: do the same before hashing it. */
const lf = (s: string): string => s.replace(/\r\n?/g, '\n');

const PAGE_CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table.kv{border-collapse:collapse}table.kv th{text-align:left;font-weight:600;padding:2px 16px 2px 0;vertical-align:top}table.kv td{padding:2px 0;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f2f4f7;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
ul.diags{list-style:none;padding:0}li.diag{border-left:4px solid #888;padding:6px 10px;margin:8px 0;background:#f8f9fb;overflow-wrap:anywhere}
li.diag.critical{border-color:#cf222e}li.diag.warning{border-color:#bf8700}li.diag.info{border-color:#1a7f37}
.sev{text-transform:uppercase;font-size:11px;font-weight:700;letter-spacing:.04em}.critical .sev{color:#cf222e}.warning .sev{color:#9a6700}.info .sev{color:#1a7f37}
ul.advice{margin:4px 0 0;padding-left:20px;color:#444}.ok{color:#1a7f37}.chart{margin:8px 0 18px}.note{color:#57606a;font-size:12px}`;

/**
 * One self-contained HTML page for a run: a summary, the diagnoses with their advice, the layer pictures (a layer ×
 * step heatmap of log10 ‖g‖, and the per-layer norms at the first diagnosis with the blamed layer in red: see
 * `mountLayerPictures`), and charts of the loss, the global gradient norm against the clip bound (pre- and post-clip
 * in different colours), every layer's gradient norm over steps on a log axis, and the clip scale with the learning
 * rate. The chart library is inlined from `assets`, so the file opens offline and can be mailed around. Steps where
 * gradients were not finite are shaded red; diagnoses are marked with dashed lines.
 *
 * The page draws with the code the viewer uses: the data is `chartData([log])`, the diagnoses `diagnosesHtml`, and the
 * charts are drawn by the source texts of `mountRunCharts` and `mountLayerPictures`, inlined into the page's one script.
 *
 * Whatever the log holds, the page is bounded (see `DISPLAY_LIMITS`: downsampled series, at most 20 layer series, cut
 * texts, at most 200 diagnoses and 100 config entries listed) and locked down: every text from the log is escaped, and
 * a Content-Security-Policy lets only the page's own script and stylesheet run, by their SHA-256 hashes
 * (`default-src 'none'`, no `'unsafe-inline'`), so markup that got into the page some other way would not execute,
 * and the page can fetch nothing.
 */
export function renderHtmlReport(log: RunLog, assets: ChartAssets, options: HtmlReportOptions = {}): string {
  const h = log.header;
  const title = truncateText(options.title ?? `gradguard report — ${truncateText(h.name)}`, 2 * DISPLAY_LIMITS.maxNameChars);
  const entries = Object.entries(h.config);
  const config =
    entries
      .slice(0, DISPLAY_LIMITS.maxListed)
      .map(([k, v]) => `<tr><th>${esc(truncateText(k))}</th><td>${esc(truncateText(typeof v === 'string' ? v : JSON.stringify(v), DISPLAY_LIMITS.maxTextChars))}</td></tr>`)
      .join('') +
    (entries.length > DISPLAY_LIMITS.maxListed
      ? `<tr><td colspan="2" class="note">… and ${(entries.length - DISPLAY_LIMITS.maxListed).toLocaleString('en-US')} more entries</td></tr>`
      : '');
  const style = lf(`${assets.css}\n${PAGE_CSS}`);
  const script = lf(`${assets.script}
;(function () {
  var mountRunCharts = ${mountRunCharts.toString()};
  var mountLayerPictures = ${mountLayerPictures.toString()};
  var data = JSON.parse(document.getElementById('gradguard-data').textContent);
  var mounted = mountRunCharts(document.getElementById('charts'), data, uPlot, { height: 280, heading: 'h2', idPrefix: 'chart-' });
  mountLayerPictures(document.getElementById('layer-pictures'), data, { heading: 'h2', idPrefix: 'picture-' });
  window.gradguardCharts = mounted.charts;
})();
`);
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${sha256Base64(script)}'`,
    `style-src 'sha256-${sha256Base64(style)}'`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@gradguard/reporter">
<title>${esc(title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${esc(truncateText(h.name))}</h1>
<p class="note">run ${esc(truncateText(h.runId))} · written by @gradguard/reporter</p>
<table class="kv">${summaryRows(log).map(([k, v]) => `<tr data-key="${esc(k)}"><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Diagnoses</h2>
${diagnosesHtml(log.diagnoses)}
<div id="layer-pictures"></div>
<div id="charts"></div>
<h2>Configuration</h2>
<table class="kv">${config || '<tr><td>none recorded</td></tr>'}</table>
<script type="application/json" id="gradguard-data">${scriptJson(chartData([log]))}</script>
<script>${script}</script>
</body>
</html>
`;
}
