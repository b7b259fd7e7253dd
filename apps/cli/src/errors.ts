/**
 * Exit codes, documented in the README and `gradguard --help`:
 * - 0 healthy, or (train) problems found and handled: the guarded run completed with finite weights and loss;
 * - 1 problems found: a run failed (non-finite weights or loss, stopped early, a mitigation gave up, a crash
 *   mid-training), a problem went unhandled, or a log or model shows a warning or critical problem;
 * - 2 usage or input error;
 * - 3 (train --strict) problems found and handled.
 */
export const EXIT = { healthy: 0, problems: 1, usage: 2, handled: 3 } as const;

/** A usage or input error: printed as one line (no stack unless --debug), exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Training started and then broke (a kernel error, an exception from a callback): the run failed, exit code 1. */
export class RunFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunFailedError';
  }
}
