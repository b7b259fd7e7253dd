import { InvalidArgumentError, type RunLogRecord, checkNumber, describeValue } from '@gradguard/core/run-log/encode';
import type { RunSink } from './sink';

/**
 * How deep a run's free-form `config` may nest. Settings are a few levels deep; far deeper is a mistake (a model or a
 * cyclic object passed as config) and would overflow the stack in `JSON.stringify` when the header is written.
 */
export const MAX_CONFIG_DEPTH = 32;

/**
 * Throws unless `record` is a run-log record of `kind` (an object with that `type` and, for steps and diagnoses, an
 * integer `step`): a sink must refuse it before writing anything, since one bad line makes a JSONL log unreadable.
 */
export function checkRecord<K extends RunLogRecord['type']>(
  where: string,
  kind: K,
  record: unknown,
): asserts record is Extract<RunLogRecord, { type: K }> {
  const r = record as { type?: unknown; step?: unknown; config?: unknown } | null;
  const fix =
    `Pass a ${kind} record ({ type: '${kind}', ... }), e.g. from ${RECORD_SOURCE[kind]}; or let createRecorder(...) ` +
    'call the sinks.';
  if (typeof r !== 'object' || r === null || Array.isArray(r)) {
    throw new InvalidArgumentError(`${where}: expected a ${kind} record, got ${describeValue(record)}.`, fix);
  }
  if (r.type !== kind) {
    throw new InvalidArgumentError(`${where}: expected a ${kind} record, got one with type ${describeValue(r.type)}.`, fix);
  }
  if ((kind === 'step' || kind === 'diagnosis') && !(typeof r.step === 'number' && Number.isInteger(r.step) && r.step >= 0)) {
    throw new InvalidArgumentError(`${where}: the ${kind} record's step must be an integer >= 0, got ${describeValue(r.step)}.`, fix);
  }
  if (kind === 'header' && r.config !== undefined) checkConfig(where, r.config);
}

const RECORD_SOURCE: Readonly<Record<RunLogRecord['type'], string>> = {
  header: 'makeHeader(...)',
  step: 'toStepRecord(stats, elapsedMs)',
  diagnosis: 'toDiagnosisRecord(diagnosis)',
  end: "the recorder's end(status)",
};

/**
 * Throws unless `config` is a plain object nested at most {@link MAX_CONFIG_DEPTH} levels. Walks without recursion,
 * so a config nested 10,000 levels (or a cycle) gets this error instead of a stack overflow.
 */
export function checkConfig(where: string, config: unknown): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidArgumentError(
      `${where}: config must be an object of settings, got ${describeValue(config)}.`,
      'Pass e.g. { optimizer: "adam", learningRate: 1e-3 }, or leave it out.',
    );
  }
  const stack: [value: unknown, depth: number, path: string][] = [[config, 1, 'config']];
  while (stack.length > 0) {
    const [value, depth, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_CONFIG_DEPTH) {
      throw new InvalidArgumentError(
        `${where}: config is nested more than ${MAX_CONFIG_DEPTH} levels deep (at ${path.length > 120 ? `${path.slice(0, 117)}...` : path}), or refers to itself.`,
        'Record plain settings (numbers, strings, small objects), e.g. the names and values of the options used, not a model or another live object.',
      );
    }
    for (const [k, v] of Object.entries(value)) if (typeof v === 'object' && v !== null) stack.push([v, depth + 1, `${path}.${k}`]);
  }
}

/** Throws unless `sink` has the four RunSink methods (and `close`, if any, is a function). */
export function checkSink(where: string, name: string, sink: unknown): asserts sink is RunSink {
  const s = sink as Partial<RunSink> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    (['header', 'step', 'diagnosis', 'end'] as const).every((m) => typeof s[m] === 'function') &&
    (s.close === undefined || typeof s.close === 'function');
  if (!ok) {
    throw new InvalidArgumentError(
      `${where}: ${name} is not a sink (an object with header, step, diagnosis and end methods), got ${describeValue(sink)}.`,
      'Create one with createJsonlSink(...), createMemorySink(), createConsoleSink() or createJsonlFileSink(path).',
    );
  }
}

/** Throws unless `value` is a function (or, when `optional`, undefined). */
export function checkFunction(where: string, name: string, value: unknown, hint: string, optional = false): void {
  if (typeof value === 'function' || (optional && value === undefined)) return;
  throw new InvalidArgumentError(`${where}: ${name} must be a function, got ${describeValue(value)}.`, hint);
}

/** Throws unless `log` looks like a run log read back (`parseRunLog`, `readRunLogFile`, a memory sink's `log`). */
export function checkRunLog(where: string, name: string, log: unknown): void {
  const l = log as { header?: unknown; steps?: unknown } | null;
  if (typeof l !== 'object' || l === null || typeof l.header !== 'object' || l.header === null || !Array.isArray(l.steps)) {
    throw new InvalidArgumentError(
      `${where}: ${name} must be a run log (with header and steps), got ${describeValue(log)}.`,
      'Read one with parseRunLog(text) or readRunLogFile(path), or take a memory sink\'s .log.',
    );
  }
}

/** A relative tolerance: a finite number >= 0 (NaN would make every comparison false, so runs would "agree"). */
export function checkTolerance(where: string, name: string, value: unknown): number {
  return checkNumber(where, name, value, { min: 0 });
}
