import type { DiagnosisRecord, HeaderRecord, RunLog, StepRecord } from '@gradguard/core/run-log';

// Small hand-made run logs for the tests of the chart data, the clip bound and the charts (not exported by the package).

export function headerOf(name: string, config: Record<string, unknown>): HeaderRecord {
  return { type: 'header', version: 1, runId: `run-${name}`, name, startedAt: '2026-11-23T00:00:00.000Z', config };
}

/** A step with global norm `pre` before clipping to `bound` (none: unclipped) and two layers holding 0.8 and 0.6 of it. */
export function stepOf(step: number, pre: number, bound = Number.POSITIVE_INFINITY, loss: number | null = 1 / (step + 1)): StepRecord {
  const finite = Number.isFinite(pre);
  const scale = finite ? Math.min(1, bound / pre) : Number.NaN;
  const post = finite ? pre * scale : pre;
  const layer = (name: string, share: number, size: number): StepRecord['layers'][number] => ({
    layer: name,
    size,
    norm: pre * share,
    maxAbs: pre * share,
    nonFinite: finite ? 0 : size,
    zeros: 0,
  });
  return {
    type: 'step',
    step,
    time: step * 10,
    loss: finite ? loss : Number.NaN,
    globalNorm: post,
    preClipNorm: pre,
    postClipNorm: post,
    scale,
    skipped: false,
    learningRate: 0.1,
    maxAbs: pre * 0.8,
    nonFinite: finite ? 0 : 12,
    layers: [layer('rnn', 0.8, 8), layer('head', 0.6, 4)],
  };
}

export function diagnosisOf(step: number, severity: DiagnosisRecord['severity'], phase: DiagnosisRecord['phase']): DiagnosisRecord {
  return {
    type: 'diagnosis',
    problem: 'exploding-gradient',
    severity,
    phase,
    step,
    layer: 'rnn',
    detector: 'detectNormAboveBound',
    message: `Global gradient norm above the bound at step ${step}.`,
    evidence: {},
    advice: [{ remedy: 'clipByGlobalNorm', detail: 'Clip the global norm to 1.' }],
  };
}

/** The unguarded run: norms ×4 per step, NaN at step 2; config records the pair's maxNorm 1 but transform none. */
export const unguardedRun: RunLog = {
  header: headerOf('unguarded', { maxNorm: 1, transform: 'none' }),
  steps: [stepOf(0, 2), stepOf(1, 8), stepOf(2, Number.NaN)],
  diagnoses: [diagnosisOf(1, 'critical', 'onset')],
  end: undefined,
  truncated: false,
};

/** The same run clipped by clipByGlobalNorm(1) for 5 steps: steps 0–2 are clipped, 3–4 are below the bound. */
export const guardedRun: RunLog = {
  header: headerOf('guarded', { maxNorm: 1, transform: 'clipByGlobalNorm(1)' }),
  steps: [stepOf(0, 2, 1), stepOf(1, 8, 1), stepOf(2, 32, 1), stepOf(3, 0.5, 1), stepOf(4, 0.25, 1)],
  diagnoses: [diagnosisOf(1, 'warning', 'onset'), diagnosisOf(3, 'info', 'recovery')],
  end: undefined,
  truncated: false,
};
