import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { type RunLog, RunLogError, parseRunLog } from '@gradguard/core/run-log';
import { createJsonlSink } from './jsonl';
import type { RunSink } from './sink';

export { createConsoleSink } from './console-sink';
export type { ConsoleSinkOptions } from './console-sink';

export interface JsonlFileSinkOptions {
  /** fsync after every record (survives power loss, not just a crash); default false. */
  readonly fsync?: boolean;
}

/**
 * Writes the run log to `path` (created or truncated), one record per line, each with a single `write` the moment it
 * happens: a run that crashes or is killed mid-step leaves every finished record readable.
 */
export function createJsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): RunSink {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new RunLogError(`cannot open run log ${JSON.stringify(path)} for writing: ${(e as Error).message}.`, undefined, 'Check that the directory exists and is writable.');
  }
  let open = true;
  return createJsonlSink(
    (line) => {
      if (!open) return;
      writeSync(fd, line);
      if (options.fsync) fsyncSync(fd);
    },
    () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  );
}

/**
 * Reads and validates a JSONL run log. A truncated last line (a run killed mid-write) is dropped and flagged;
 * anything else malformed throws a `RunLogError` naming the file and line.
 */
export function readRunLogFile(path: string): RunLog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunLogError(
      code === 'ENOENT' ? `no such run log: ${path}.` : `cannot read run log ${path}: ${(e as Error).message}.`,
      undefined,
      code === 'ENOENT' ? 'Write one with `gradguard train --log run.jsonl` or createJsonlFileSink(path).' : undefined,
    );
  }
  try {
    return parseRunLog(text);
  } catch (e) {
    if (e instanceof RunLogError) throw new RunLogError(`${path}: ${e.message}`, undefined);
    throw e;
  }
}

export type { RunSink };
