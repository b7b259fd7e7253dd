import { EXIT } from './errors';

/**
 * How a training run ended, for the exit code (documented in the README and `gradguard --help`):
 * - `healthy`: no warning or critical problem, weights and loss finite;
 * - `handled`: problems were diagnosed, but the run was guarded (a transform, a learning-rate policy or rollback) and
 *   the mitigations held — it completed with finite weights and a finite last loss;
 * - `unhandled`: problems were diagnosed in an unguarded run that still ended finite;
 * - `failed`: the run did not complete (stopped at a non-finite loss, a mitigation gave up) or ended with non-finite
 *   weights or loss.
 */
export type RunOutcome = 'healthy' | 'handled' | 'unhandled' | 'failed';

export interface RunFacts {
  /** The run reached its last step (not stopped early, no mitigation gave up). */
  readonly completed: boolean;
  readonly weightsFinite: boolean;
  readonly finalLoss: number;
  /** The first step whose loss or gradients were non-finite, or null. */
  readonly firstNonFiniteStep: number | null;
  /** Any mitigation was on: a gradient transform, a learning-rate policy, or rollback. */
  readonly guarded: boolean;
  /** Warning and critical diagnoses (onsets and escalations; recoveries and info do not count). */
  readonly problems: number;
}

/**
 * Classifies a finished run and gives its exit code: 0 healthy or handled, 1 failed or unhandled; with `strict`,
 * a handled run exits 3, so that CI that wants any warning to fail can, and can still tell it from a failure (1).
 */
export function classifyRun(f: RunFacts, strict: boolean): { readonly outcome: RunOutcome; readonly code: number } {
  const held = f.completed && f.weightsFinite && Number.isFinite(f.finalLoss);
  if (!held) return { outcome: 'failed', code: EXIT.problems };
  if (f.problems === 0 && f.firstNonFiniteStep === null) return { outcome: 'healthy', code: EXIT.healthy };
  if (f.guarded) return { outcome: 'handled', code: strict ? EXIT.handled : EXIT.healthy };
  return { outcome: 'unhandled', code: EXIT.problems };
}

/** The last line of `train`'s summary for each outcome. */
export function outcomeLine(outcome: RunOutcome, code: number): string {
  switch (outcome) {
    case 'healthy':
      return 'healthy: no problems found';
    case 'handled':
      return `problems found and handled: the mitigations held (finite weights, run completed) (exit code ${code})`;
    case 'unhandled':
      return `problems found (exit code ${code})`;
    case 'failed':
      return `run failed (exit code ${code})`;
  }
}
