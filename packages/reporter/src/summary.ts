import { type RunLog, type StepRecord, formatNumber as fmt } from '@gradguard/core/run-log/encode';
import { checkRunLog, checkTolerance } from './check-arguments';
import { clipBoundOf } from './clip-bound';
import { DISPLAY_LIMITS, truncateText } from './limits';

/** The few numbers that tell how a run went. */
export interface RunSummary {
  readonly name: string;
  readonly steps: number;
  readonly status: 'completed' | 'stopped' | 'failed' | 'unfinished';
  /** True when every loss and every gradient entry stayed finite. */
  readonly finite: boolean;
  /** First step with a non-finite loss or gradient entry, or null. */
  readonly firstNonFiniteStep: number | null;
  /** The last recorded loss (NaN when it went non-finite), or null when none was recorded. */
  readonly finalLoss: number | null;
  /** The smallest finite loss and its step, or null. */
  readonly bestLoss: { readonly step: number; readonly loss: number } | null;
  /** Largest finite pre-clip global norm (0 when there is none). */
  readonly maxPreClipNorm: number;
  /** Steps whose gradients were scaled down (scale < 1). */
  readonly clippedSteps: number;
  /** Steps skipped by a mitigation. */
  readonly skippedSteps: number;
  /** Diagnoses by severity, counting onsets and escalations (not recoveries). */
  readonly problems: { readonly critical: number; readonly warning: number; readonly info: number };
}

const nonFiniteStep = (s: StepRecord): boolean => s.nonFinite > 0 || (s.loss !== null && !Number.isFinite(s.loss));

/** Summarizes a run log. */
export function summarizeRun(log: RunLog): RunSummary {
  let firstNonFiniteStep: number | null = null;
  let maxPreClipNorm = 0;
  let clippedSteps = 0;
  let skippedSteps = 0;
  let bestLoss: RunSummary['bestLoss'] = null;
  let finalLoss: number | null = null;
  for (const s of log.steps) {
    if (firstNonFiniteStep === null && nonFiniteStep(s)) firstNonFiniteStep = s.step;
    if (Number.isFinite(s.preClipNorm)) maxPreClipNorm = Math.max(maxPreClipNorm, s.preClipNorm);
    if (s.scale < 1) clippedSteps++;
    if (s.skipped) skippedSteps++;
    if (s.loss !== null) {
      finalLoss = s.loss;
      if (Number.isFinite(s.loss) && (bestLoss === null || s.loss < bestLoss.loss)) bestLoss = { step: s.step, loss: s.loss };
    }
  }
  if (log.end?.finalLoss !== undefined && log.end.finalLoss !== null) finalLoss = log.end.finalLoss;
  const problems = { critical: 0, warning: 0, info: 0 };
  for (const d of log.diagnoses) if (d.phase !== 'recovery') problems[d.severity]++;
  return {
    name: log.header.name,
    steps: log.steps.length,
    status: log.end?.status ?? 'unfinished',
    finite: firstNonFiniteStep === null,
    firstNonFiniteStep,
    finalLoss,
    bestLoss,
    maxPreClipNorm,
    clippedSteps,
    skippedSteps,
    problems,
  };
}

/** Names joined with commas, at most `DISPLAY_LIMITS.maxListed` of them (each cut to a name's length), the rest counted. */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, DISPLAY_LIMITS.maxListed).map((n) => truncateText(n));
  return names.length > shown.length ? `${shown.join(', ')}, … and ${(names.length - shown.length).toLocaleString('en-US')} more` : shown.join(', ');
}

/**
 * The key facts of a run as label/text rows — model, backend, start, status, steps, first non-finite step, final loss,
 * largest pre-clip norm, clip bound, clipped steps, diagnoses — the summary table of the HTML report and the viewer.
 * Texts from the log are cut to `DISPLAY_LIMITS` (names, the end reason, the model's layer list).
 */
export function summaryRows(log: RunLog): readonly (readonly [label: string, text: string])[] {
  const h = log.header;
  const s = summarizeRun(log);
  const bound = clipBoundOf(log);
  const end = log.end;
  const reason = end?.reason ? ` — ${truncateText(end.reason, DISPLAY_LIMITS.maxTextChars)}` : '';
  return [
    ['model', h.model ? `${truncateText(h.model.name)} (${h.model.params.toLocaleString('en-US')} params; ${listed(h.model.layers.map((l) => l.name))})` : '—'],
    ['backend', h.backend === undefined ? '—' : truncateText(h.backend)],
    ['started', truncateText(h.startedAt)],
    ['status', end ? `${end.status}${reason}` : log.truncated ? 'unfinished (last line cut off)' : 'unfinished'],
    ['steps', String(s.steps)],
    ['first non-finite step', s.firstNonFiniteStep === null ? 'none' : String(s.firstNonFiniteStep)],
    ['final loss', s.finalLoss === null ? '—' : fmt(s.finalLoss)],
    ['largest pre-clip ‖g‖', fmt(s.maxPreClipNorm)],
    ['clip bound', bound === undefined ? 'none' : fmt(bound)],
    ['steps clipped', String(s.clippedSteps)],
    ['diagnoses', `${s.problems.critical} critical, ${s.problems.warning} warning, ${s.problems.info} info`],
  ];
}

export interface RunDivergence {
  /** First step (present in both) where the runs differ beyond the tolerance, or null when they agree throughout. */
  readonly step: number | null;
  /** What differed there. */
  readonly reason: string | null;
}

/**
 * The first step at which two runs part ways: one went non-finite and the other did not, or their loss or pre-clip
 * global norm differ by more than `rtol` relative. Two runs from the same seed and data agree up to the first update
 * that a mitigation changed, so this finds where the mitigation started to matter. `rtol` must be a finite number >= 0.
 */
export function findDivergence(a: RunLog, b: RunLog, rtol = 1e-3): RunDivergence {
  checkRunLog('findDivergence', 'a', a);
  checkRunLog('findDivergence', 'b', b);
  checkTolerance('findDivergence', 'rtol', rtol);
  const byStep = new Map(b.steps.map((s) => [s.step, s]));
  const differs = (x: number | null, y: number | null): boolean => {
    if (x === null || y === null) return false;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Number.isFinite(x) !== Number.isFinite(y);
    return Math.abs(x - y) > rtol * Math.max(Math.abs(x), Math.abs(y), 1e-12);
  };
  for (const sa of a.steps) {
    const sb = byStep.get(sa.step);
    if (!sb) continue;
    if (nonFiniteStep(sa) !== nonFiniteStep(sb)) return { step: sa.step, reason: `only ${nonFiniteStep(sa) ? 'the first' : 'the second'} run has non-finite values` };
    if (differs(sa.loss, sb.loss)) return { step: sa.step, reason: `loss ${sa.loss} vs ${sb.loss}` };
    if (differs(sa.preClipNorm, sb.preClipNorm)) return { step: sa.step, reason: `pre-clip global norm ${sa.preClipNorm} vs ${sb.preClipNorm}` };
  }
  return { step: null, reason: null };
}
