import { basename } from 'node:path';
import { formatNumber as fmt } from '@gradguard/core/run-log';
import { type RunSummary, escapeControlChars, findDivergence, summarizeRun, table, truncateText } from '@gradguard/reporter';
import { toJson } from '../json';
import { EXIT } from '../errors';
import { type LogReadFlags, readLog, skippedLinesText } from '../read-log';

export interface CompareOptions extends LogReadFlags {
  readonly json?: boolean;
  /** Relative tolerance for "the runs still agree". */
  readonly rtol: number;
}

function verdict(a: RunSummary, b: RunSummary): string {
  if (!a.finite && b.finite) return `B stayed finite where A went non-finite at step ${a.firstNonFiniteStep}: B's setup prevented the explosion.`;
  if (a.finite && !b.finite) return `A stayed finite where B went non-finite at step ${b.firstNonFiniteStep}: A's setup prevented the explosion.`;
  if (!a.finite && !b.finite) return `Both went non-finite (A at step ${a.firstNonFiniteStep}, B at step ${b.firstNonFiniteStep}): neither setup is enough.`;
  if (a.finalLoss === null || b.finalLoss === null) return 'Both stayed finite.';
  const better = a.finalLoss < b.finalLoss ? 'A' : 'B';
  return `Both stayed finite; ${better} ended with the lower loss (${fmt(Math.min(a.finalLoss, b.finalLoss))} vs ${fmt(Math.max(a.finalLoss, b.finalLoss))}).`;
}

/**
 * Two runs side by side: finite or not, where each first went non-finite, final and best loss, largest norm, clipping,
 * problems, and the first step where they part ways. Exit code 1 when either run went non-finite or had a warning or
 * critical problem, else 0.
 */
export function compare(pathA: string, pathB: string, o: CompareOptions): number {
  const la = readLog(pathA, o);
  const lb = readLog(pathB, o);
  // Names and the transform come from the logs: cut to 200 characters (DISPLAY_LIMITS), so a huge run name cannot
  // pad every row of the table to its length.
  const a: RunSummary = { ...summarizeRun(la), name: truncateText(la.header.name) };
  const b: RunSummary = { ...summarizeRun(lb), name: truncateText(lb.header.name) };
  const divergence = findDivergence(la, lb, o.rtol);
  const problems = (s: RunSummary) => s.problems.critical + s.problems.warning;
  const code = a.finite && b.finite && problems(a) === 0 && problems(b) === 0 ? EXIT.healthy : EXIT.problems;
  const text = verdict(a, b);
  if (o.json) {
    const skipped = (l: typeof la) => l.skipped ?? { count: 0, lines: [] };
    process.stdout.write(toJson({ a: { log: pathA, ...a, skipped: skipped(la) }, b: { log: pathB, ...b, skipped: skipped(lb) }, divergence, verdict: text }));
    return code;
  }
  const transform = (l: typeof la) => truncateText(String(l.header.config.transform ?? '—'));
  const rows: (string | number)[][] = [
    ['run', a.name, b.name],
    ['mitigations', transform(la), transform(lb)],
    ['status', a.status, b.status],
    ['steps', a.steps, b.steps],
    ['finite', a.finite ? 'yes' : 'no', b.finite ? 'yes' : 'no'],
    ['first non-finite step', a.firstNonFiniteStep ?? '—', b.firstNonFiniteStep ?? '—'],
    ['final loss', a.finalLoss === null ? '—' : fmt(a.finalLoss), b.finalLoss === null ? '—' : fmt(b.finalLoss)],
    ['best loss (step)', a.bestLoss ? `${fmt(a.bestLoss.loss)} (${a.bestLoss.step})` : '—', b.bestLoss ? `${fmt(b.bestLoss.loss)} (${b.bestLoss.step})` : '—'],
    ['largest pre-clip ‖g‖', fmt(a.maxPreClipNorm), fmt(b.maxPreClipNorm)],
    ['steps clipped', a.clippedSteps, b.clippedSteps],
    ['problems (critical/warning)', `${a.problems.critical}/${a.problems.warning}`, `${b.problems.critical}/${b.problems.warning}`],
  ];
  const out = [
    table(['', `A: ${basename(pathA)}`, `B: ${basename(pathB)}`], rows),
    '',
    divergence.step === null ? 'The runs agree at every shared step.' : `They part ways at step ${divergence.step}: ${divergence.reason}.`,
    text,
    ...skippedLinesText(la, 'A: '),
    ...skippedLinesText(lb, 'B: '),
  ];
  // Run names, mitigations and reasons come from the logs (table() escapes its cells; this catches the rest).
  process.stdout.write(`${escapeControlChars(out.join('\n'))}\n`);
  return code;
}
