import { GradguardError } from '@gradguard/core';
import { escapeControlChars } from '@gradguard/reporter';

/** Exit codes, documented in the README and `gradguard --help`. */
export const EXIT = { healthy: 0, problems: 1, usage: 2 } as const;

/** A usage or input error: printed as one line (no stack unless --debug), exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Turns any thrown value into the one line the user sees and the exit code. The line is control-escaped: an error
 * about a log may quote the log (a bad value, a name).
 */
export function describeFailure(e: unknown): { line: string; code: number } {
  const { line, code } = describe(e);
  return { line: escapeControlChars(line), code };
}

function describe(e: unknown): { line: string; code: number } {
  if (e instanceof UsageError) return { line: `error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`, code: EXIT.usage };
  if (e instanceof GradguardError) {
    const message = e.hint ? e.message.slice(0, e.message.length - e.hint.length).trimEnd() : e.message;
    return { line: `error: ${message}${e.hint ? `\n  hint: ${e.hint}` : ''}`, code: EXIT.usage };
  }
  const err = e as { code?: string; message?: string };
  if (err?.code?.startsWith?.('commander.')) return { line: '', code: EXIT.usage };
  return { line: `error: ${err?.message ?? String(e)}\n  (run again with --debug for the stack trace)`, code: EXIT.usage };
}
