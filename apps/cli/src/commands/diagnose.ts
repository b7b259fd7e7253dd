import { createMonitor } from '@gradguard/core/monitor';
import { type Diagnosis, formatNumber as fmt } from '@gradguard/core/run-log';
import { escapeControlChars, summarizeRun, toStepStatistics } from '@gradguard/reporter';
import { toJson } from '../json';
import { EXIT } from '../errors';
import { type LogReadFlags, readLog, skippedLinesText } from '../read-log';

export interface DiagnoseOptions extends LogReadFlags {
  readonly json?: boolean;
}

const ICON: Record<Diagnosis['severity'], string> = { critical: '✖', warning: '▲', info: '•' };

/**
 * Re-runs the default detectors of @gradguard/core over the steps of a saved run and prints what they find. The
 * verdict comes from the detectors of this version, not from the diagnoses stored in the log, so an old log gains
 * newer rules. Exit code 1 when any warning or critical problem is found.
 */
export function diagnose(path: string, o: DiagnoseOptions): number {
  const log = readLog(path, o);
  const monitor = createMonitor();
  // The header names each layer's class and activation: saturated LSTM units are then told from dead ReLU units.
  if (log.header.model) monitor.describeModel?.(log.header.model.layers);
  for (const s of log.steps) monitor.observe(toStepStatistics(s));
  const diagnoses = monitor.diagnoses;
  const problems = diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info');
  const summary = summarizeRun(log);
  if (o.json) {
    process.stdout.write(toJson({
          log: path,
          name: log.header.name,
          steps: log.steps.length,
          truncated: log.truncated,
          finished: log.end !== undefined,
          skipped: log.skipped ?? { count: 0, lines: [] },
          firstNonFiniteStep: summary.firstNonFiniteStep,
          maxPreClipNorm: summary.maxPreClipNorm,
          healthy: problems.length === 0,
          diagnoses: diagnoses.map((d) => ({ step: d.step, problem: d.problem, severity: d.severity, phase: d.phase, layer: d.layer ?? null, detector: d.detector, message: d.message, advice: d.advice })),
        }));
    return problems.length === 0 ? EXIT.healthy : EXIT.problems;
  }
  const out: string[] = [];
  const h = log.header;
  out.push(
    `${h.name}: ${log.steps.length} steps${h.model ? ` of ${h.model.name} (${h.model.params.toLocaleString('en-US')} params)` : ''}` +
      `${log.end ? `, ${log.end.status}` : ', unfinished'}${log.truncated ? ' (last line cut off: the run was killed mid-write)' : ''}`,
  );
  out.push(...skippedLinesText(log));
  if (diagnoses.length === 0) out.push('', `No problems found: gradients finite, largest global norm ${fmt(summary.maxPreClipNorm)}.`);
  for (const d of diagnoses) {
    out.push('', `${ICON[d.severity]} step ${d.step} ${d.severity} ${d.problem}${d.layer ? ` in layer "${d.layer}"` : ''} (${d.phase})`, `    ${d.message}`);
    for (const a of d.advice.slice(0, 3)) out.push(`    try ${a.remedy}: ${a.detail}`);
  }
  out.push('', problems.length === 0 ? 'healthy' : `${problems.length} problem${problems.length === 1 ? '' : 's'} found (exit code 1)`);
  // Names and messages come from the log (the messages quote its layer names): nothing in it may drive the terminal.
  process.stdout.write(`${escapeControlChars(out.join('\n'))}\n`);
  return problems.length === 0 ? EXIT.healthy : EXIT.problems;
}
