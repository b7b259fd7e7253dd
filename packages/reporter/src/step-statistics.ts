import type { StepRecord, StepStatistics } from '@gradguard/core/run-log/encode';

/**
 * A saved step back in the form detectors observe, to re-run them over a run log. The log keeps per-layer statistics,
 * weight and update norms, histograms and recurrent spectra when they were measured; per-variable statistics are not
 * kept (detectors work per layer).
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
    ...(r.weightNorm !== undefined ? { weightNorm: r.weightNorm } : {}),
    ...(r.updateNorm !== undefined ? { updateNorm: r.updateNorm } : {}),
    ...(r.updateRatio !== undefined ? { updateRatio: r.updateRatio } : {}),
    ...(r.histogramEdges ? { histogramEdges: [...r.histogramEdges] } : {}),
    ...(r.histogram ? { histogram: [...r.histogram] } : {}),
    ...(r.recurrent ? { recurrent: r.recurrent.map((x) => ({ ...x })) } : {}),
    ...(r.replay ? { replay: { ...r.replay } } : {}),
  };
}
