import type { CaseWithTruth } from './case';
import { CASE_DEFINITIONS } from './cases';
import { GROUND_TRUTH } from './ground-truth';

/**
 * The casebook: every case definition with the ground truth measured by running it (seeds 1–3, cpu backend,
 * `packages/autopilot/scripts/casebook-truth.ts`). A case without measured truth is left out.
 */
export const CASEBOOK: readonly CaseWithTruth[] = CASE_DEFINITIONS.flatMap((c) => {
  const truth = GROUND_TRUTH[c.name];
  return truth ? [{ ...c, truth: truth.map((t) => ({ ...t, metric: t.metric ?? Number.NaN })) }] : [];
});

/** A casebook case by name. */
export function getCase(name: string): CaseWithTruth | undefined {
  return CASEBOOK.find((c) => c.name === name);
}
