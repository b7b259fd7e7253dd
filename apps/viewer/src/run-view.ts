import { type DiagnosisRecord, formatNumber as fmt } from '@gradguard/core/run-log';
import { clipBoundOf, summarizeRun } from '@gradguard/reporter';
import type { ChartableRun } from './chart-data';
import { h } from './dom';

/** One diagnosis with its advice, as a list item (the markup of the HTML report's diagnosis list). */
export function diagnosisItem(d: DiagnosisRecord): HTMLLIElement {
  const head = h(
    'div',
    { class: 'head' },
    h('span', { class: 'sev' }, d.severity),
    ` step ${d.step} · `,
    h('b', {}, d.problem),
    d.layer !== undefined ? ' in layer ' : null,
    d.layer !== undefined ? h('code', { 'data-testid': 'diagnosis-layer' }, d.layer) : null,
    ` (${d.phase})`,
  );
  const advice =
    d.advice.length > 0
      ? h('ul', { class: 'advice' }, ...d.advice.map((a) => h('li', {}, h('code', {}, a.remedy), ` ${a.detail}`)))
      : null;
  return h(
    'li',
    { class: `diag ${d.severity}`, 'data-testid': 'diagnosis', 'data-problem': d.problem, 'data-severity': d.severity },
    head,
    h('div', { class: 'msg' }, d.message),
    advice,
  );
}

/** The diagnoses of a run, newest last; a plain "no problems" line when there are none. */
export function diagnosisList(run: ChartableRun): HTMLElement {
  if (run.diagnoses.length === 0) return h('p', { class: 'ok', 'data-testid': 'no-diagnoses' }, 'No problems diagnosed.');
  return h('ul', { class: 'diags' }, ...run.diagnoses.map(diagnosisItem));
}

/** Key facts of a run: model, backend, status, first non-finite step, final loss, largest norm, clipping. */
export function summaryTable(run: ChartableRun): HTMLTableElement {
  const log = { header: run.header, steps: run.steps, diagnoses: run.diagnoses, end: undefined, truncated: false };
  const s = summarizeRun(log);
  const bound = clipBoundOf(log);
  const hd = run.header;
  const end = run.end as { status: string; reason?: string } | undefined;
  const rows: [string, string][] = [
    ['model', hd.model ? `${hd.model.name} (${hd.model.params.toLocaleString('en-US')} params; ${hd.model.layers.map((l) => l.name).join(', ')})` : '—'],
    ['backend', hd.backend ?? '—'],
    ['status', end ? `${end.status}${end.reason ? ` — ${end.reason}` : ''}` : run.truncated ? 'unfinished (last line cut off)' : 'unfinished'],
    ['steps', String(s.steps)],
    ['first non-finite step', s.firstNonFiniteStep === null ? 'none' : String(s.firstNonFiniteStep)],
    ['final loss', s.finalLoss === null ? '—' : fmt(s.finalLoss)],
    ['largest pre-clip ‖g‖', fmt(s.maxPreClipNorm)],
    ['clip bound', bound === undefined ? 'none' : fmt(bound)],
    ['steps clipped', String(s.clippedSteps)],
    ['diagnoses', `${s.problems.critical} critical, ${s.problems.warning} warning, ${s.problems.info} info`],
  ];
  return h(
    'table',
    { class: 'kv', 'data-testid': 'summary' },
    ...rows.map(([k, v]) => h('tr', { 'data-key': k }, h('th', {}, k), h('td', {}, v))),
  );
}
