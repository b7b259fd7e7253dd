import {
  type Diagnosis,
  type DiagnosisRecord,
  type HeaderRecord,
  RUN_LOG_VERSION,
  type StepRecord,
  type StepStatistics,
} from '@gradguard/core/run-log/encode';
import { checkConfig } from './check-arguments';

/** The parts of a tfjs LayersModel a summary reads (structural: the reporter never loads tfjs). */
export interface SummarizableModel {
  readonly name: string;
  readonly layers: ReadonlyArray<{
    readonly name: string;
    getClassName(): string;
    countParams(): number;
    getConfig?(): Record<string, unknown>;
  }>;
  countParams(): number;
}

export type ModelSummary = NonNullable<HeaderRecord['model']>;

/** Name, parameter count and activation of each layer, for the run-log header. */
export function summarizeModel(model: SummarizableModel): ModelSummary {
  return {
    name: model.name,
    params: model.countParams(),
    layers: model.layers.map((l) => {
      const activation = l.getConfig?.().activation;
      return {
        name: l.name,
        className: l.getClassName(),
        params: l.countParams(),
        ...(typeof activation === 'string' ? { activation } : {}),
      };
    }),
  };
}

/** A step's statistics as a run-log record; `time` is milliseconds since the run started. */
export function toStepRecord(s: StepStatistics, time: number): StepRecord {
  return {
    type: 'step',
    step: s.step,
    time: Math.max(0, time),
    loss: s.loss ?? null,
    globalNorm: s.globalNorm,
    preClipNorm: s.preClipNorm,
    postClipNorm: s.postClipNorm,
    scale: s.scale,
    skipped: s.skipped,
    learningRate: s.learningRate ?? null,
    maxAbs: s.maxAbs,
    nonFinite: s.nonFinite,
    layers: s.layers.map((l) => ({
      layer: l.layer,
      size: l.size,
      norm: l.norm,
      maxAbs: l.maxAbs,
      nonFinite: l.nonFinite,
      zeros: l.zeros,
      ...(l.biasSize !== undefined ? { biasSize: l.biasSize, biasZeros: l.biasZeros ?? 0 } : {}),
      ...defined({ weightNorm: l.weightNorm, updateNorm: l.updateNorm, updateRatio: l.updateRatio }),
      ...(l.histogram ? { histogram: [...l.histogram] } : {}),
    })),
    // What was measured beyond the gradients (weight and update norms, histograms, recurrent spectra) is kept too, so
    // re-running the detectors over the log (`gradguard diagnose`) sees what the live monitor saw.
    ...defined({ weightNorm: s.weightNorm, updateNorm: s.updateNorm, updateRatio: s.updateRatio }),
    ...(s.histogramEdges ? { histogramEdges: [...s.histogramEdges] } : {}),
    ...(s.histogram ? { histogram: [...s.histogram] } : {}),
    ...(s.recurrent ? { recurrent: s.recurrent.map((r) => ({ ...r })) } : {}),
    ...(s.replay ? { replay: { verdict: s.replay.verdict, backend: s.replay.backend, replayedOn: s.replay.replayedOn } } : {}),
  };
}

/** The entries whose value is not undefined (optional record fields are left out rather than written as null). */
function defined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  // A for...in loop, not Object.entries/filter/fromEntries: this runs for every layer of every step record.
  const out: Record<string, number> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as { [K in keyof T]?: number };
}

export function toDiagnosisRecord(d: Diagnosis): DiagnosisRecord {
  return {
    type: 'diagnosis',
    problem: d.problem,
    severity: d.severity,
    phase: d.phase,
    step: d.step,
    ...(d.layer !== undefined ? { layer: d.layer } : {}),
    detector: d.detector,
    message: d.message,
    evidence: { ...d.evidence },
    advice: d.advice.map((a) => ({ ...a })),
  };
}

export function makeHeader(options: {
  runId: string;
  name: string;
  startedAt: Date;
  backend?: string;
  model?: ModelSummary;
  config?: Record<string, unknown>;
}): HeaderRecord {
  if (options.config !== undefined) checkConfig('makeHeader', options.config);
  return {
    type: 'header',
    version: RUN_LOG_VERSION,
    runId: options.runId,
    name: options.name,
    startedAt: options.startedAt.toISOString(),
    ...(options.backend !== undefined ? { backend: options.backend } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    config: options.config ?? {},
  };
}
