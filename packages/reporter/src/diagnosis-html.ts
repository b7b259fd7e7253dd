import type { DiagnosisRecord } from '@gradguard/core/run-log/encode';
import { escapeHtml as esc } from './html';
import { DISPLAY_LIMITS, truncateText } from './limits';

/**
 * One diagnosis with its advice as an HTML list item (`li.diag.<severity>`), every run-log text escaped and cut to
 * `DISPLAY_LIMITS` (layer name, message, advice). The HTML report and the viewer show diagnoses with this markup; the
 * `data-*` attributes name the problem, severity and layer for scripts and tests.
 */
export function diagnosisHtml(d: DiagnosisRecord): string {
  const advice = d.advice
    .slice(0, DISPLAY_LIMITS.maxListed)
    .map((a) => `<li><code>${esc(a.remedy)}</code> ${esc(truncateText(a.detail, DISPLAY_LIMITS.maxTextChars))}</li>`)
    .join('');
  const layer = d.layer !== undefined ? ` in layer <code data-testid="diagnosis-layer">${esc(truncateText(d.layer))}</code>` : '';
  return (
    `<li class="diag ${esc(d.severity)}" data-testid="diagnosis" data-problem="${esc(d.problem)}" data-severity="${esc(d.severity)}">` +
    `<div class="head"><span class="sev">${esc(d.severity)}</span> step ${d.step} · <b>${esc(d.problem)}</b>${layer} (${esc(d.phase)})</div>` +
    `<div class="msg">${esc(truncateText(d.message, DISPLAY_LIMITS.maxTextChars))}</div>${advice ? `<ul class="advice">${advice}</ul>` : ''}</li>`
  );
}

/**
 * A run's diagnoses in order as `ul.diags` of {@link diagnosisHtml} items, or a `p.ok` line when there are none. Past
 * `DISPLAY_LIMITS.maxDiagnoses`, the rest are counted by severity in a last `li.more` item.
 */
export function diagnosesHtml(diagnoses: readonly DiagnosisRecord[]): string {
  if (diagnoses.length === 0) return '<p class="ok" data-testid="no-diagnoses">No problems were diagnosed in this run.</p>';
  const listed = diagnoses.slice(0, DISPLAY_LIMITS.maxDiagnoses);
  const rest = diagnoses.slice(listed.length);
  let more = '';
  if (rest.length > 0) {
    const count = { critical: 0, warning: 0, info: 0 };
    for (const d of rest) count[d.severity]++;
    more =
      `<li class="more note" data-testid="more-diagnoses">… and ${rest.length.toLocaleString('en-US')} more diagnoses ` +
      `(${count.critical} critical, ${count.warning} warning, ${count.info} info), from step ${rest[0]!.step}: see the run log.</li>`;
  }
  return `<ul class="diags">${listed.map(diagnosisHtml).join('')}${more}</ul>`;
}
