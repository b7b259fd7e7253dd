import { GradguardError } from '@gradguard/core/run-log';
import { escapeControlChars } from '@gradguard/reporter';
import { EXIT, RunFailedError, UsageError } from './errors';

/**
 * Turns any thrown value into the one line the user sees and the exit code. The line is control-escaped: an error
 * about a log may quote the log (a bad value, a name). Loaded only when something failed, so that `--help` and the
 * commands that succeed never pay for the validator and the reporter.
 */
export function describeFailure(e: unknown): { line: string; code: number } {
  const { line, code } = describe(e);
  return { line: escapeControlChars(line), code };
}

function describe(e: unknown): { line: string; code: number } {
  if (e instanceof UsageError) return { line: `error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`, code: EXIT.usage };
  if (e instanceof RunFailedError) return { line: `error: ${e.message}\n  (run again with --debug for the stack trace)`, code: EXIT.problems };
  if (e instanceof GradguardError) {
    const message = e.hint ? e.message.slice(0, e.message.length - e.hint.length).trimEnd() : e.message;
    return { line: `error: ${message}${e.hint ? `\n  hint: ${e.hint}` : ''}`, code: EXIT.usage };
  }
  const err = e as { code?: string; message?: string };
  if (err?.code?.startsWith?.('commander.')) return { line: '', code: EXIT.usage };
  return { line: `error: ${err?.message ?? String(e)}\n  (run again with --debug for the stack trace)`, code: EXIT.usage };
}

/** Escapes a stack trace for --debug (it quotes messages, which may quote a log). */
export function escapeStack(stack: string): string {
  return escapeControlChars(stack);
}
