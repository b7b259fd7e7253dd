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
  /** The last step's loss; null when no step reported one (a custom loop that calls `applyGradients` itself). */
  readonly finalLoss: number | null;
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
  const outcome = outcomeOf(f);
  return { outcome, code: exitCodeOf(outcome, strict) };
}

function outcomeOf(f: RunFacts): RunOutcome {
  const held = f.completed && f.weightsFinite && (f.finalLoss === null || Number.isFinite(f.finalLoss));
  if (!held) return 'failed';
  if (f.problems === 0 && f.firstNonFiniteStep === null) return 'healthy';
  return f.guarded ? 'handled' : 'unhandled';
}

function exitCodeOf(outcome: RunOutcome, strict: boolean): number {
  if (outcome === 'healthy') return EXIT.healthy;
  if (outcome === 'handled') return strict ? EXIT.handled : EXIT.healthy;
  return EXIT.problems;
}

const SEVERITY: readonly RunOutcome[] = ['healthy', 'handled', 'unhandled', 'failed'];

/**
 * The exit code of `gradguard run script.js`, from the script's own exit code and the outcomes of the runs it trained
 * (one per optimizer). The script's code is never hidden: a non-zero one is always the exit code, and without `strict`
 * the exit code is the script's whatever gradguard found (it only watches). With `strict`, a script that exits 0 gets
 * the verdict of its worst run, as `train --strict` gives it: 1 failed or a problem unhandled, 3 problems found and
 * handled by the mitigations, 0 healthy (or no training step seen).
 */
export function classifyScript(scriptCode: number, runs: readonly RunFacts[], strict: boolean): { readonly outcome: RunOutcome; readonly code: number } {
  const outcome = runs.map(outcomeOf).reduce<RunOutcome>((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'healthy');
  return { outcome, code: scriptCode !== 0 || !strict ? scriptCode : exitCodeOf(outcome, true) };
}

const TEXT: Readonly<Record<RunOutcome, string>> = {
  healthy: 'healthy: no problems found',
  handled: 'problems found and handled: the mitigations held (finite weights, run completed)',
  unhandled: 'problems found',
  failed: 'run failed',
};

/** The last line of `train`'s summary for each outcome. */
export function outcomeLine(outcome: RunOutcome, code: number): string {
  return outcome === 'healthy' ? TEXT.healthy : `${TEXT[outcome]} (exit code ${code})`;
}

/** The last line of `gradguard run`'s summary: the worst run's outcome, the exit code and where it came from. */
export function scriptOutcomeLine(outcome: RunOutcome, scriptCode: number, code: number, strict: boolean): string {
  const strictCode = exitCodeOf(outcome, true);
  const why = scriptCode !== 0 || (!strict && strictCode === 0) ? "the script's own" : strict ? 'the --strict verdict' : `the script's own; --strict gives ${strictCode}`;
  return `${TEXT[outcome]} (exit code ${code}: ${why})`;
}
