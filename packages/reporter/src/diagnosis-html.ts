import type { DiagnosisRecord } from '@gradguard/core/run-log';
import { escapeHtml as esc } from './html';

/**
 * One diagnosis with its advice as an HTML list item (`li.diag.<severity>`), every run-log text escaped. The HTML report
 * and the viewer show diagnoses with this markup; the `data-*` attributes name the problem, severity and layer for
 * scripts and tests.
 */
export function diagnosisHtml(d: DiagnosisRecord): string {
  const advice = d.advice.map((a) => `<li><code>${esc(a.remedy)}</code> ${esc(a.detail)}</li>`).join('');
  const layer = d.layer !== undefined ? ` in layer <code data-testid="diagnosis-layer">${esc(d.layer)}</code>` : '';
  return (
    `<li class="diag ${esc(d.severity)}" data-testid="diagnosis" data-problem="${esc(d.problem)}" data-severity="${esc(d.severity)}">` +
    `<div class="head"><span class="sev">${esc(d.severity)}</span> step ${d.step} · <b>${esc(d.problem)}</b>${layer} (${esc(d.phase)})</div>` +
    `<div class="msg">${esc(d.message)}</div>${advice ? `<ul class="advice">${advice}</ul>` : ''}</li>`
  );
}

/** A run's diagnoses in order as `ul.diags` of {@link diagnosisHtml} items, or a `p.ok` line when there are none. */
export function diagnosesHtml(diagnoses: readonly DiagnosisRecord[]): string {
  return diagnoses.length > 0
    ? `<ul class="diags">${diagnoses.map(diagnosisHtml).join('')}</ul>`
    : '<p class="ok" data-testid="no-diagnoses">No problems were diagnosed in this run.</p>';
}
