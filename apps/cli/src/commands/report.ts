import { escapeControlChars, summarizeRun } from '@gradguard/reporter';
import { writeHtmlReport, writeTensorBoardEvents } from '@gradguard/reporter/node';
import { EXIT } from '../errors';
import { ensureParentDir } from '../paths';
import { type LogReadFlags, readLog, skippedLinesText } from '../read-log';

export interface ReportOptions extends LogReadFlags {
  readonly out: string;
  readonly tensorboard?: string;
}

/** Renders a saved run as one self-contained HTML file (and, if asked, TensorBoard events). Exit code 0 on success. */
export function report(path: string, o: ReportOptions): number {
  const log = readLog(path, o);
  ensureParentDir(o.out);
  writeHtmlReport(o.out, log);
  const s = summarizeRun(log);
  const lines = [
    `wrote ${o.out}: ${s.steps} steps, ${log.diagnoses.length} diagnos${log.diagnoses.length === 1 ? 'is' : 'es'}${s.firstNonFiniteStep === null ? '' : `, non-finite from step ${s.firstNonFiniteStep}`}`,
  ];
  if (o.tensorboard) lines.push(`wrote ${writeTensorBoardEvents(o.tensorboard, log)}  (tensorboard --logdir ${o.tensorboard})`);
  lines.push(...skippedLinesText(log));
  process.stdout.write(`${escapeControlChars(lines.join('\n'))}\n`);
  return EXIT.healthy;
}
