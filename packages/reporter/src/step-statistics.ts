import type { StepRecord, StepStatistics } from '@gradguard/core/run-log';

/**
 * A saved step back in the form detectors observe, to re-run them over a run log. What the log does not keep
 * (per-variable statistics, weight and update norms, histograms) is absent, so detectors that need those stay quiet.
 */
export function toStepStatistics(r: StepRecord): StepStatistics {
  return {
    step: r.step,
    variables: [],
    layers: r.layers.map((l) => ({ ...l })),
    globalNorm: r.globalNorm,
    maxAbs: r.maxAbs,
    nonFinite: r.nonFinite,
    size: r.layers.reduce((a, l) => a + l.size, 0),
    ...(r.loss !== null ? { loss: r.loss } : {}),
    preClipNorm: r.preClipNorm,
    postClipNorm: r.postClipNorm,
    scale: r.scale,
    skipped: r.skipped,
    ...(r.learningRate !== null ? { learningRate: r.learningRate } : {}),
  };
}
