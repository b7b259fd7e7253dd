/**
 * Every error gradguard throws is a `GradguardError` with a stable `code`, a message that names the offending value,
 * and a `hint` that says how to fix it. Catch by class or switch on `code`.
 */
export type GradguardErrorCode =
  | 'INVALID_ARGUMENT'
  | 'RUN_LOG_INVALID'
  | 'STATE_MISMATCH'
  | 'NOT_INITIALIZED'
  | 'NON_FINITE_LIMIT'
  | 'UNRECOVERABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'MODEL_INVALID';

export class GradguardError extends Error {
  readonly code: GradguardErrorCode;
  readonly hint: string | undefined;

  constructor(code: GradguardErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${message} ${hint}` : message, options);
    this.name = 'GradguardError';
    this.code = code;
    this.hint = hint;
  }
}

/** A value passed to a gradguard function is out of range or of the wrong kind. */
export class InvalidArgumentError extends GradguardError {
  constructor(message: string, hint?: string) {
    super('INVALID_ARGUMENT', message, hint);
    this.name = 'InvalidArgumentError';
  }
}

/** A run log (or one of its records) does not match the run-log schema. */
export class RunLogError extends GradguardError {
  /** 1-based line number in the JSONL text, when known. */
  readonly line: number | undefined;

  constructor(message: string, line?: number, hint?: string) {
    super('RUN_LOG_INVALID', line === undefined ? message : `line ${line}: ${message}`, hint);
    this.name = 'RunLogError';
    this.line = line;
  }
}

/** Describes a value for an error message: short, and unambiguous about its type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** Throws unless `value` is a finite number satisfying `test`; the message names the option and the rule. */
export function checkNumber(
  where: string,
  name: string,
  value: unknown,
  rule: { min?: number; max?: number; exclusiveMin?: number; integer?: boolean },
): number {
  const parts: string[] = [];
  if (rule.integer) parts.push('an integer');
  else parts.push('a number');
  if (rule.exclusiveMin !== undefined) parts.push(`> ${rule.exclusiveMin}`);
  if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  const expected = parts.join(' ');
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.exclusiveMin === undefined || value > rule.exclusiveMin) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) {
    throw new InvalidArgumentError(`${where}: ${name} must be ${expected}, got ${describeValue(value)}.`);
  }
  return value as number;
}

/**
 * Throws unless `options` is a plain object (or undefined) whose keys are all in `allowed`; returns it (or `{}`). In
 * plain JavaScript a misspelt option (`recoveryPatiance`) is otherwise silently ignored, so the message names the key
 * and suggests the nearest allowed one.
 */
export function checkOptions<T extends object>(
  where: string,
  options: T | undefined,
  allowed: readonly string[],
  name = 'options',
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `${where}: ${name} must be an object, got ${describeValue(options)}.`,
      `Pass an object with any of ${allowed.join(', ')}, or leave it out.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = nearest(key, allowed);
    throw new InvalidArgumentError(
      `${where}: unknown ${name === 'options' ? 'option' : `key in ${name}`} ${JSON.stringify(key)}.`,
      `${near ? `Did you mean ${JSON.stringify(near)}? ` : ''}Allowed: ${allowed.join(', ')}.`,
    );
  }
  return options;
}

/** The allowed key closest to `key` (case-insensitive edit distance at most 3), for "did you mean". */
function nearest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [a, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
