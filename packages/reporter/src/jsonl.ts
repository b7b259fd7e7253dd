import { type RunLogRecord, encodeRunLogRecord } from '@gradguard/core/run-log/encode';
import { checkFunction, checkRecord } from './check-arguments';
import type { RunSink } from './sink';

/**
 * A run-log sink over any line writer: each record becomes one complete JSONL line passed to `writeLine` (with its
 * trailing newline) the moment it happens, so whatever was written survives a crash later in the run. A value that
 * is not a record of the method's kind is refused with an error and nothing is written: one bad line would make the
 * whole log unreadable.
 */
export function createJsonlSink(writeLine: (line: string) => void, close?: () => void | Promise<void>): RunSink {
  checkFunction('createJsonlSink', 'writeLine', writeLine, 'Pass (line) => stream.write(line), or use createJsonlFileSink(path).');
  checkFunction('createJsonlSink', 'close', close, 'Pass a function that flushes and closes the writer, or leave it out.', true);
  const writer =
    <K extends RunLogRecord['type']>(kind: K) =>
    (r: Extract<RunLogRecord, { type: K }>): void => {
      checkRecord(`jsonlSink.${kind}`, kind, r);
      writeLine(`${encodeRunLogRecord(r)}\n`);
    };
  return {
    header: writer('header'),
    step: writer('step'),
    diagnosis: writer('diagnosis'),
    end: writer('end'),
    ...(close ? { close } : {}),
  };
}
