import { summarizeRun } from '@gradguard/reporter';
import { readRunLogFile, writeHtmlReport, writeTensorBoardEvents } from '@gradguard/reporter/node';
import { EXIT } from '../errors';
import { ensureParentDir } from '../paths';

export interface ReportOptions {
  readonly out: string;
  readonly tensorboard?: string;
}

/** Renders a saved run as one self-contained HTML file (and, if asked, TensorBoard events). Exit code 0 on success. */
export function report(path: string, o: ReportOptions): number {
  const log = readRunLogFile(path);
  ensureParentDir(o.out);
  writeHtmlReport(o.out, log);
  const s = summarizeRun(log);
  const lines = [
    `wrote ${o.out}: ${s.steps} steps, ${log.diagnoses.length} diagnos${log.diagnoses.length === 1 ? 'is' : 'es'}${s.firstNonFiniteStep === null ? '' : `, non-finite from step ${s.firstNonFiniteStep}`}`,
  ];
  if (o.tensorboard) lines.push(`wrote ${writeTensorBoardEvents(o.tensorboard, log)}  (tensorboard --logdir ${o.tensorboard})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.healthy;
}
