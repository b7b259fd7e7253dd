import { type RunLog } from '@gradguard/core/run-log';
import { DISPLAY_LIMITS, chartData, findDivergence, renderHtmlReport, truncateText } from '@gradguard/reporter';
import { h } from './dom';
import { type LoadedRun, type TextSource, MAX_RUNS, loadRunFiles } from './load-run';
import { diagnosisList, runChartsIn, summaryTable } from './run-view';

/** The HTML report of @gradguard/reporter for one run, as a blob URL (uPlot's browser build inlined, as the CLI does). */
async function htmlReportUrl(log: RunLog): Promise<string> {
  const [{ default: script }, { default: css }] = await Promise.all([
    import('uplot/dist/uPlot.iife.min.js?raw'),
    import('uplot/dist/uPlot.min.css?raw'),
  ]);
  return URL.createObjectURL(new Blob([renderHtmlReport(log, { script, css })], { type: 'text/html' }));
}

/**
 * The "Run logs" panel: open one or two JSONL run logs (file picker or drag and drop), see each run's summary and
 * diagnoses, where two runs part ways, and their loss, global-norm and per-layer charts overlaid.
 */
export function mountRunsPanel(root: HTMLElement): { open(files: readonly TextSource[]): Promise<void> } {
  const input = h('input', { type: 'file', multiple: '', accept: '.jsonl,.ndjson,.json,.txt', 'data-testid': 'file-input' });
  const clear = h('button', { type: 'button', 'data-testid': 'clear' }, 'Clear');
  const drop = h(
    'div',
    { class: 'drop', 'data-testid': 'dropzone' },
    h('p', {}, h('b', {}, 'Drop one or two run logs here'), ` (.jsonl files written by gradguard, e.g. runs/demo-unguarded.jsonl), or `),
    h('label', { class: 'button' }, 'choose files…', input),
    ' ',
    clear,
  );
  const errors = h('ul', { class: 'errors', 'data-testid': 'load-errors', hidden: '' });
  const notices = h('div', { class: 'notices' });
  const cards = h('div', { class: 'cards' });
  const chartsRoot = h('div', { class: 'charts', 'data-testid': 'run-charts' });
  const empty = h('p', { class: 'note', 'data-testid': 'empty' }, 'No run opened yet. Create two with: gradguard demo -o runs');
  root.append(drop, errors, notices, empty, cards, chartsRoot);
  const drawCharts = runChartsIn(chartsRoot);
  let runs: { file: string; log: RunLog }[] = [];
  const reportUrls: string[] = [];

  const render = (failed: readonly Extract<LoadedRun, { ok: false }>[]): void => {
    errors.replaceChildren(
      ...failed.map((f) =>
        h(
          'li',
          { 'data-testid': 'load-error', ...(f.line !== undefined ? { 'data-line': String(f.line) } : {}) },
          h('b', {}, truncateText(f.file)),
          `: ${truncateText(f.message, DISPLAY_LIMITS.maxTextChars)}`,
        ),
      ),
    );
    errors.hidden = failed.length === 0;
    notices.replaceChildren(
      ...runs
        .filter((r) => r.log.truncated)
        .map((r) =>
          h(
            'p',
            { class: 'warn', 'data-testid': 'truncated' },
            h('b', {}, truncateText(r.file)),
            `: the last line was cut off mid-write (the run was killed or is still running); the ${r.log.steps.length} finished steps before it are shown.`,
          ),
        ),
    );
    // Run names come from the logs: cut to DISPLAY_LIMITS.maxNameChars wherever the page shows them.
    const name = (log: RunLog): string => truncateText(log.header.name);
    if (runs.length === 2) {
      const d = findDivergence(runs[0]!.log, runs[1]!.log);
      const [a, b] = [name(runs[0]!.log), name(runs[1]!.log)];
      notices.append(
        h(
          'p',
          { class: 'compare', 'data-testid': 'divergence' },
          d.step === null ? `${a} and ${b} agree at every step they share.` : `${a} and ${b} part ways at step ${d.step}: ${d.reason}.`,
        ),
      );
    }
    for (const u of reportUrls.splice(0)) URL.revokeObjectURL(u);
    cards.replaceChildren(
      ...runs.map(({ file, log }) => {
        // The report inlines uPlot's browser build (~50 kB, loaded once, lazily). It is made as soon as the run is shown,
        // so that the click opens it directly (a popup opened after an await would be blocked).
        const report = h('a', { class: 'button', 'data-testid': 'html-report', target: '_blank', rel: 'noopener', 'aria-disabled': 'true' }, 'HTML report');
        void htmlReportUrl(log).then((url) => {
          reportUrls.push(url);
          report.href = url;
          report.removeAttribute('aria-disabled');
        });
        return h(
          'article',
          { class: 'run', 'data-testid': 'run' },
          h('h2', {}, name(log), ' ', h('span', { class: 'note' }, truncateText(file))),
          summaryTable(log),
          h('p', {}, report),
          h('h3', {}, 'Diagnoses'),
          diagnosisList(log),
        );
      }),
    );
    empty.hidden = runs.length > 0;
    chartsRoot.hidden = runs.length === 0;
    if (runs.length > 0) {
      drawCharts(chartData(runs.map((r) => r.log), runs.map((r) => name(r.log))));
    }
  };

  const open = async (files: readonly TextSource[]): Promise<void> => {
    if (files.length === 0) return;
    const loaded = await loadRunFiles(files);
    const ok = loaded.filter((l): l is Extract<LoadedRun, { ok: true }> => l.ok);
    runs = [...runs, ...ok.map((l) => ({ file: l.file, log: l.log }))].slice(-MAX_RUNS);
    render(loaded.filter((l): l is Extract<LoadedRun, { ok: false }> => !l.ok));
  };

  input.addEventListener('change', () => {
    void open([...(input.files ?? [])]).finally(() => (input.value = ''));
  });
  clear.addEventListener('click', () => {
    runs = [];
    render([]);
  });
  for (const type of ['dragenter', 'dragover'] as const) {
    drop.addEventListener(type, (ev) => {
      ev.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    void open([...(ev.dataTransfer?.files ?? [])]);
  });
  render([]);
  return { open };
}
