import type { Advice, Problem, Severity } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

/** What a detector reports about one step; the monitor turns findings into diagnoses (onset, escalation, recovery). */
export interface Finding {
  readonly problem: Problem;
  readonly severity: Severity;
  readonly layer?: string;
  readonly message: string;
  readonly evidence: Readonly<Record<string, number | string | boolean | null>>;
  readonly advice: readonly Advice[];
}

/**
 * A detector is a rule over numbers: it sees each step's statistics in order and returns what it finds.
 * It may keep state between steps (an EMA, a streak); `reset` forgets it. Detectors never touch tfjs.
 */
export interface Detector {
  readonly name: string;
  observe(step: StepStatistics): readonly Finding[];
  reset(): void;
}

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };
