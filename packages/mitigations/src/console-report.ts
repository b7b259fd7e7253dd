import type { Diagnosis, Monitor } from '@gradguard/core';

/** Which diagnoses `guard` prints on its own when nothing else shows them: none, criticals, or warnings and up. */
export type PrintLevel = 'none' | 'critical' | 'warning';

/**
 * Prints each diagnosis of at least `level` once, at its onset or escalation, with the first remedy — what a user of a
 * plain `model.fit` sees without a sink (as Keras prints its progress): a run that goes NaN is never silent. Returns
 * the unsubscribe function.
 */
export function reportToConsole(monitor: Monitor, level: Exclude<PrintLevel, 'none'>, print: (line: string) => void = console.warn): () => void {
  return monitor.subscribe((d: Diagnosis) => {
    if (d.phase === 'recovery' || (d.severity !== 'critical' && (level === 'critical' || d.severity !== 'warning'))) return;
    const where = d.layer ? ` in layer "${d.layer}"` : '';
    const fix = d.advice[0] ? `\n  try ${d.advice[0].remedy}: ${d.advice[0].detail}` : '';
    print(`gradguard: step ${d.step} ${d.severity} ${d.problem}${where}: ${d.message}${fix}`);
  });
}
