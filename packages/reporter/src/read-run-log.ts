import { type Stats, closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type RunLog, RunLogError, type RunLogReadOptions, createRunLogLineReader } from '@gradguard/core/run-log';

/** Default {@link RunLogFileOptions.maxBytes}: 256 MiB, about a million steps of a 10-layer model. */
export const DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024;
/** Default {@link RunLogFileOptions.maxLineBytes}: 16 MiB; one step of the largest model we log is far below. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface RunLogFileOptions extends RunLogReadOptions {
  /** Refuse a log longer than this many bytes (default {@link DEFAULT_MAX_LOG_BYTES}); `gradguard --max-log-bytes`. */
  readonly maxBytes?: number;
  /** A longer line is a bad line (an error, or skipped under `salvage`), never held in memory whole. Default 16 MiB. */
  readonly maxLineBytes?: number;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** Says what a path is, for "not a run log" errors. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}

/**
 * Reads and validates a JSONL run log. A truncated last line (a run killed mid-write) is dropped and flagged;
 * anything else malformed, or a step out of order or repeated, throws a `RunLogError` naming the file and line —
 * unless `salvage` is set, which keeps the valid lines and lists the bad ones in `skipped`.
 *
 * Only a regular file or a pipe (FIFO) is read: a device such as /dev/zero never ends, so it is refused up front. The
 * log is read in 64 KiB chunks, one line at a time, so memory stays bounded by the records kept plus one line of at
 * most `maxLineBytes`; more than `maxBytes` in all is an error.
 */
export function readRunLogFile(path: string, options: RunLogFileOptions = {}): RunLog {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const refuse = (s: Stats): never => {
    throw new RunLogError(`${path} is ${kindOf(s)}, not a run log.`, undefined, 'A run log is a regular file (or a pipe) written by `gradguard train --log run.jsonl`.');
  };
  const tooLarge = (bytes?: number): never => {
    throw new RunLogError(
      `${path} is larger than the ${formatBytes(maxBytes)} a run log may hold${bytes === undefined ? '' : ` (${bytes} bytes)`}.`,
      undefined,
      'If the log is genuine, raise the limit: `gradguard ... --max-log-bytes <n>`, or the maxBytes option of readRunLogFile.',
    );
  };
  let fd: number;
  try {
    // stat first: opening a FIFO waits for a writer, and a socket cannot be opened at all.
    const s = statSync(path);
    if (!s.isFile() && !s.isFIFO()) refuse(s);
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof RunLogError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunLogError(
      code === 'ENOENT' ? `no such run log: ${path}.` : `cannot read run log ${path}: ${(e as Error).message}.`,
      undefined,
      code === 'ENOENT' ? 'Write one with `gradguard train --log run.jsonl` or createJsonlFileSink(path).' : undefined,
    );
  }
  try {
    const s = fstatSync(fd); // the path may have been swapped for something else since the stat
    if (!s.isFile() && !s.isFIFO()) refuse(s);
    if (s.isFile() && s.size > maxBytes) tooLarge(s.size);
    return readLines(fd, path, options, maxBytes, maxLineBytes, tooLarge);
  } catch (e) {
    if (e instanceof RunLogError) {
      if (e.message.startsWith(`${path} is `)) throw e; // refused before parsing: already names the file
      const message = e.hint ? e.message.slice(0, e.message.length - e.hint.length).trimEnd() : e.message;
      throw new RunLogError(`${path}: ${message}`, undefined, e.hint);
    }
    throw new RunLogError(`cannot read run log ${path}: ${(e as Error).message}.`);
  } finally {
    closeSync(fd);
  }
}

function readLines(
  fd: number,
  path: string,
  options: RunLogReadOptions,
  maxBytes: number,
  maxLineBytes: number,
  tooLarge: (bytes?: number) => never,
): RunLog {
  const reader = createRunLogLineReader(options);
  const buffer = Buffer.allocUnsafe(CHUNK);
  let pieces: Buffer[] = []; // the current line so far
  let pending = 0; // its length in bytes
  let oversized = false; // the current line passed maxLineBytes: its bytes are dropped, not kept
  let lineNumber = 1;
  let total = 0;
  const endLine = (): void => {
    if (oversized) {
      reader.reject(lineNumber, `the line is longer than ${formatBytes(maxLineBytes)} (${pending} bytes).`, 'A run-log record is one line of well under a MiB; this is not one.');
    } else reader.line(Buffer.concat(pieces, pending).toString('utf8'), lineNumber);
    pieces = [];
    pending = 0;
    oversized = false;
    lineNumber++;
  };
  for (;;) {
    const n = readSync(fd, buffer, 0, CHUNK, null);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) tooLarge(); // a pipe, or a file still growing
    let start = 0;
    for (let nl = buffer.indexOf(NEWLINE, start); nl !== -1 && nl < n; nl = buffer.indexOf(NEWLINE, start)) {
      append(buffer.subarray(start, nl));
      endLine();
      start = nl + 1;
    }
    append(buffer.subarray(start, n));
  }
  if (pending > 0 && oversized) {
    endLine();
    return reader.finish();
  }
  return reader.finish(pending > 0 ? { raw: Buffer.concat(pieces, pending).toString('utf8'), lineNumber } : undefined);

  function append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    pending += bytes.length;
    if (pending > maxLineBytes) {
      oversized = true;
      pieces = [];
    }
    // Copy: the chunk buffer is reused by the next read.
    if (!oversized) pieces.push(Buffer.from(bytes));
  }
}
