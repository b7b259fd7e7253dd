import { type RunLogRecord, encodeRunLogRecord } from '@gradguard/core/run-log';
import type { RunSink } from './sink';

/**
 * A run-log sink over any line writer: each record becomes one complete JSONL line passed to `writeLine` (with its
 * trailing newline) the moment it happens, so whatever was written survives a crash later in the run.
 */
export function createJsonlSink(writeLine: (line: string) => void, close?: () => void | Promise<void>): RunSink {
  const write = (r: RunLogRecord): void => writeLine(`${encodeRunLogRecord(r)}\n`);
  return { header: write, step: write, diagnosis: write, end: write, ...(close ? { close } : {}) };
}
