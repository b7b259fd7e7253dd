import { RunLogError } from '../errors';
import {
  type DiagnosisRecord,
  type EndRecord,
  type HeaderRecord,
  type RunLogRecord,
  type StepRecord,
  runLogRecordSchema,
} from './schema';

/** Serializes one record as one JSONL line (no trailing newline), keeping NaN and ±Infinity as strings. */
export function encodeRunLogRecord(record: RunLogRecord): string {
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return value;
  });
}

/** Validates one parsed JSON value against the run-log schema; throws a `RunLogError` saying which field is wrong. */
export function parseRunLogRecord(value: unknown, line?: number): RunLogRecord {
  const result = runLogRecordSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length > 0 ? issue.path.join('.') : '(record)';
    throw new RunLogError(`invalid run-log record at ${path}: ${issue.message}.`, line);
  }
  return result.data;
}

/** A run log read back: its records by kind, and whether the last line was cut off (a run killed mid-write). */
export interface RunLog {
  readonly header: HeaderRecord;
  readonly steps: readonly StepRecord[];
  readonly diagnoses: readonly DiagnosisRecord[];
  /** Missing when the run did not finish (it crashed or is still running). */
  readonly end: EndRecord | undefined;
  /** True when the final line was incomplete and was dropped. */
  readonly truncated: boolean;
}

/**
 * Parses JSONL run-log text. A run killed mid-write leaves a partial last line: it is dropped and `truncated` is
 * set, and every finished record before it is kept. Any other malformed line is an error naming its line number.
 */
export function parseRunLog(text: string): RunLog {
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  let truncated = false;
  const records: RunLogRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const isLast = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      if (isLast && !endsWithNewline && i > 0) {
        truncated = true;
        break;
      }
      throw new RunLogError(
        `not JSON: ${JSON.stringify(raw.slice(0, 40))}${raw.length > 40 ? '...' : ''}.`,
        i + 1,
        'A run log is JSON Lines written by @gradguard/reporter (one record per line).',
      );
    }
    records.push(parseRunLogRecord(value, i + 1));
  }
  const first = records[0];
  if (!first || first.type !== 'header') {
    throw new RunLogError(
      records.length === 0 ? 'the run log is empty.' : `the first record must be the header, got "${first!.type}".`,
      records.length === 0 ? undefined : 1,
      'Is this a gradguard run log? It starts with a {"type":"header",...} line.',
    );
  }
  const steps: StepRecord[] = [];
  const diagnoses: DiagnosisRecord[] = [];
  let end: EndRecord | undefined;
  for (const r of records.slice(1)) {
    if (r.type === 'step') steps.push(r);
    else if (r.type === 'diagnosis') diagnoses.push(r);
    else if (r.type === 'end') end = r;
    else throw new RunLogError('a second header record: one run log holds one run.');
  }
  return { header: first, steps, diagnoses, end, truncated };
}
