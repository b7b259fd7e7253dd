import { z } from 'zod';
import { PHASES, PROBLEMS, REMEDIES, SEVERITIES } from './diagnosis';
import { RUN_LOG_VERSION } from './version';

export { RUN_LOG_VERSION };

/**
 * JSON has no NaN or Infinity, and a run log must keep them: an exploding run is exactly where they appear.
 * They are written as the strings "NaN", "Infinity", "-Infinity" and read back as numbers.
 */
// Declared, not inferred: the inferred type holds the enum's object `{ NaN; Infinity; "-Infinity" }`, which
// TypeScript's declaration emit prints as `[-Infinity]: "-Infinity"` — 80 TS1170 errors in the published .d.ts for
// a consumer without skipLibCheck. The annotation emits `ZodType<number, …>` instead; the runtime schema is unchanged.
const num: z.ZodType<number, number | 'NaN' | 'Infinity' | '-Infinity'> = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .transform((v) => (typeof v === 'number' ? v : Number(v)));
const count = z.number().int().nonnegative();

const layerStep = z.object({
  layer: z.string(),
  size: count,
  norm: num,
  maxAbs: num,
  nonFinite: count,
  zeros: count,
  // Optional since @gradguard/core 0.3 (readers that strip unknown keys ignore them).
  biasSize: count.optional(),
  biasZeros: count.optional(),
  // Optional since @gradguard/core 0.2 (still version 1: readers of the first schema ignore them).
  weightNorm: num.optional(),
  updateNorm: num.optional(),
  updateRatio: num.optional(),
  histogram: z.array(count).optional(),
});

const recurrentStep = z.object({
  layer: z.string(),
  className: z.string(),
  gate: z.string(),
  spectralRadius: num,
  maxSingularValue: num,
  timeSteps: count.optional(),
});

const layerInfo = z.object({
  name: z.string(),
  className: z.string(),
  params: count,
  activation: z.string().optional(),
});

export const headerRecordSchema = z.object({
  type: z.literal('header'),
  version: z.number().int().positive().max(RUN_LOG_VERSION, {
    message: `this reader understands run-log versions up to ${RUN_LOG_VERSION}; upgrade @gradguard/core to read newer logs`,
  }),
  runId: z.string().min(1),
  name: z.string(),
  startedAt: z.string(),
  backend: z.string().optional(),
  model: z
    .object({
      name: z.string(),
      params: count,
      layers: z.array(layerInfo),
    })
    .optional(),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const stepRecordSchema = z.object({
  type: z.literal('step'),
  step: count,
  /** Milliseconds since the header's startedAt. */
  time: z.number().nonnegative(),
  loss: num.nullable(),
  globalNorm: num,
  preClipNorm: num,
  postClipNorm: num,
  scale: num,
  skipped: z.boolean(),
  learningRate: num.nullable(),
  maxAbs: num,
  nonFinite: count,
  layers: z.array(layerStep),
  // Optional since @gradguard/core 0.2 (still version 1).
  weightNorm: num.optional(),
  updateNorm: num.optional(),
  updateRatio: num.optional(),
  histogramEdges: z.array(num).optional(),
  histogram: z.array(count).optional(),
  recurrent: z.array(recurrentStep).optional(),
  replay: z.object({ verdict: z.enum(['backend', 'model']), backend: z.string(), replayedOn: z.string() }).optional(),
});

const evidenceValue = z.union([num, z.string(), z.boolean(), z.null()]);

export const diagnosisRecordSchema = z.object({
  type: z.literal('diagnosis'),
  problem: z.enum(PROBLEMS),
  severity: z.enum(SEVERITIES),
  phase: z.enum(PHASES),
  step: count,
  layer: z.string().optional(),
  detector: z.string(),
  message: z.string(),
  evidence: z.record(z.string(), evidenceValue),
  advice: z.array(z.object({ remedy: z.enum(REMEDIES), detail: z.string() })),
});

export const endRecordSchema = z.object({
  type: z.literal('end'),
  status: z.enum(['completed', 'stopped', 'failed']),
  steps: count,
  endedAt: z.string(),
  reason: z.string().optional(),
  finalLoss: num.nullable().optional(),
});

export const runLogRecordSchema = z.discriminatedUnion('type', [
  headerRecordSchema,
  stepRecordSchema,
  diagnosisRecordSchema,
  endRecordSchema,
]);

export type HeaderRecord = z.output<typeof headerRecordSchema>;
export type StepRecord = z.output<typeof stepRecordSchema>;
export type DiagnosisRecord = z.output<typeof diagnosisRecordSchema>;
export type EndRecord = z.output<typeof endRecordSchema>;
export type RunLogRecord = z.output<typeof runLogRecordSchema>;
