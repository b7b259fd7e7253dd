import { RunLogError } from '../errors';
import {
  type DiagnosisRecord,
  type EndRecord,
  type HeaderRecord,
  type RunLogRecord,
  type StepRecord,
  runLogRecordSchema,
} from './schema';

export { encodeRunLogRecord } from './encode';

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

/** A line the reader skipped under `salvage`: its 1-based number and why it was rejected. */
export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
}

/** What `salvage` skipped: how many lines, and the first {@link MAX_SKIPPED_LINES} of them. */
export interface SkippedLines {
  readonly count: number;
  readonly lines: readonly SkippedLine[];
}

/** How many skipped lines a log keeps in detail (the count goes on): a garbage file must not fill memory. */
export const MAX_SKIPPED_LINES = 100;

export interface RunLogReadOptions {
  /**
   * Keep the valid records around bad lines (not JSON, invalid, a second header, a step out of order or repeated) and
   * report the bad ones in `skipped`, instead of rejecting the whole log at the first. Default false.
   */
  readonly salvage?: boolean;
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
  /** The bad lines `salvage` read around (`count` 0 when there were none); absent on logs not read from text. */
  readonly skipped?: SkippedLines;
}

/**
 * Reads a run log one line at a time, so a reader can stream a file of any length with bounded memory (the records
 * kept aside). `line` takes each complete line, `reject` a line the caller already knows is bad (e.g. too long),
 * and `finish` the unterminated remainder, if any. See {@link parseRunLog} for the rules.
 */
export interface RunLogLineReader {
  line(raw: string, lineNumber: number): void;
  reject(lineNumber: number, reason: string, hint?: string): void;
  finish(unterminated?: { readonly raw: string; readonly lineNumber: number }): RunLog;
}

const NOT_JSON = Symbol('not JSON');
const SALVAGE_HINT = 'To read the valid lines around it, use the salvage option (gradguard: --salvage).';
const JSONL_HINT = 'A run log is JSON Lines written by @gradguard/reporter (one record per line).';

export function createRunLogLineReader(options: RunLogReadOptions = {}): RunLogLineReader {
  let header: HeaderRecord | undefined;
  const steps: StepRecord[] = [];
  const diagnoses: DiagnosisRecord[] = [];
  let end: EndRecord | undefined;
  let truncated = false;
  let seen = 0; // non-blank lines, good or bad
  const skipped: SkippedLine[] = [];
  let skippedCount = 0;

  const reject = (lineNumber: number, reason: string, hint?: string): void => {
    if (!options.salvage) throw new RunLogError(reason, lineNumber, `${hint ? `${hint} ` : ''}${SALVAGE_HINT}`);
    skippedCount++;
    if (skipped.length < MAX_SKIPPED_LINES) skipped.push({ line: lineNumber, reason });
  };

  const accept = (r: RunLogRecord, lineNumber: number): void => {
    if (!header) {
      if (r.type !== 'header') {
        throw new RunLogError(
          `the first record must be the header, got "${r.type}".`,
          lineNumber,
          'Is this a gradguard run log? It starts with a {"type":"header",...} line.',
        );
      }
      header = r;
      return;
    }
    if (r.type === 'header') return reject(lineNumber, 'a second header record: one run log holds one run.');
    if (r.type === 'step') {
      // A step number that does not increase means lines were reordered or a run was appended to another's log: the
      // charts, the divergence step and the detectors' trends would silently mix two histories.
      const last = steps.at(-1);
      if (last && r.step <= last.step) {
        return reject(
          lineNumber,
          r.step === last.step ? `step ${r.step} appears twice (a duplicate step).` : `step ${r.step} comes after step ${last.step} (steps out of order).`,
          'Step records must have increasing step numbers.',
        );
      }
      steps.push(r);
    } else if (r.type === 'diagnosis') diagnoses.push(r);
    else end = r;
  };

  const parse = (raw: string): unknown => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return NOT_JSON;
    }
  };

  const notJson = (raw: string): string => `not JSON: ${JSON.stringify(raw.slice(0, 40))}${raw.length > 40 ? '...' : ''}.`;

  const validate = (value: unknown, lineNumber: number): RunLogRecord | undefined => {
    try {
      return parseRunLogRecord(value, lineNumber);
    } catch (e) {
      // Before the header, a record that fails the schema (a newer version, a foreign file) is not a bad line to read
      // around: the log cannot be identified.
      if (!(e instanceof RunLogError) || !header) throw e;
      reject(lineNumber, e.message.replace(/^line \d+: /, ''));
      return undefined;
    }
  };

  const line = (raw: string, lineNumber: number): void => {
    if (raw.trim() === '') return;
    seen++;
    const value = parse(raw);
    if (value === NOT_JSON) return reject(lineNumber, notJson(raw), JSONL_HINT);
    const r = validate(value, lineNumber);
    if (r) accept(r, lineNumber);
  };

  return {
    line,
    reject(lineNumber, reason, hint) {
      seen++;
      reject(lineNumber, reason, hint);
    },
    finish(unterminated) {
      if (unterminated && unterminated.raw.trim() !== '') {
        // A run killed mid-write leaves its last line cut off: everything before it is whole and kept.
        if (seen > 0 && parse(unterminated.raw) === NOT_JSON) truncated = true;
        else line(unterminated.raw, unterminated.lineNumber);
      }
      if (!header) {
        throw new RunLogError(
          seen === 0 ? 'the run log is empty.' : 'no valid header record.',
          undefined,
          'Is this a gradguard run log? It starts with a {"type":"header",...} line.',
        );
      }
      return { header, steps, diagnoses, end, truncated, skipped: { count: skippedCount, lines: skipped } };
    },
  };
}


/**
 * Parses JSONL run-log text. A run killed mid-write leaves a partial last line: it is dropped and `truncated` is
 * set, and every finished record before it is kept. Any other malformed line, a second header, or a step whose number
 * does not increase is an error naming its line number; with `salvage` such lines are skipped and listed in
 * `skipped` instead.
 */
export function parseRunLog(text: string, options: RunLogReadOptions = {}): RunLog {
  const reader = createRunLogLineReader(options);
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the text ends with a newline
  for (let i = 0; i < lines.length; i++) reader.line(lines[i]!, i + 1);
  return reader.finish(last === '' ? undefined : { raw: last, lineNumber: lines.length + 1 });
}
