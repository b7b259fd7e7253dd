import type { RunLog } from '@gradguard/core/run-log';
import { readRunLogFile } from '@gradguard/reporter/node';

/** The flags every command that reads run logs takes (diagnose, report, compare). */
export interface LogReadFlags {
  /** Read the valid lines around bad ones and report the skipped lines, instead of rejecting the log. */
  readonly salvage?: boolean;
  /** Refuse a log longer than this (default 256 MiB, the reader's). */
  readonly maxLogBytes?: number;
}

/** Reads a run log as the flags say: regular files and pipes only, size-capped, bad lines rejected or skipped. */
export function readLog(path: string, flags: LogReadFlags): RunLog {
  return readRunLogFile(path, { salvage: !!flags.salvage, ...(flags.maxLogBytes !== undefined ? { maxBytes: flags.maxLogBytes } : {}) });
}

/** What --salvage skipped, for the text output: a count, then the first few lines with their reasons. */
export function skippedLinesText(log: RunLog, label = ''): string[] {
  const skipped = log.skipped;
  if (!skipped || skipped.count === 0) return [];
  const shown = skipped.lines.slice(0, 10);
  return [
    `${label}skipped ${skipped.count} bad line${skipped.count === 1 ? '' : 's'} (--salvage):`,
    ...shown.map((l) => `  line ${l.line}: ${l.reason}`),
    ...(skipped.count > shown.length ? [`  … and ${skipped.count - shown.length} more`] : []),
  ];
}
