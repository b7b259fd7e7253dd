import {
  type GradientTransformation,
  type LearningRateControl,
  adaGC,
  adaptiveGradClip,
  autoClip,
  chain,
  clipByGlobalNorm,
  clipByGroupedGlobalNorm,
  clipByNorm,
  clipByValue,
  controlLearningRate,
  decoupledWeightDecay,
  skipNonFinite,
  skipOnSpike,
  spikeClip,
  zClip,
} from '@gradguard/mitigations';

/** The mitigation flags of `train`, as commander parses them. */
export interface MitigationFlags {
  readonly skipNonFinite?: boolean;
  readonly skipOnSpike?: number | true;
  readonly adaGc?: boolean;
  readonly clipLayerNorm?: number;
  readonly spikeClip?: number | true;
  readonly clipValue?: number;
  readonly clipNorm?: number;
  readonly adaptiveClip?: number;
  readonly zClip?: number | true;
  readonly autoClip?: number | true;
  readonly clipGlobalNorm?: number;
  readonly weightDecay?: number;
  readonly lrBackoff?: number | true;
  readonly lrWarmup?: number;
  readonly rollback?: boolean;
}

export interface Mitigations {
  readonly transform: GradientTransformation | undefined;
  readonly learningRate: LearningRateControl | undefined;
  readonly rollback: boolean;
  /** What was chosen, in chain order, e.g. `skipNonFinite() → clipByGlobalNorm(1)`; 'none' when nothing. */
  readonly description: string;
}

/**
 * Turns flags into one chain, in the order that makes sense whatever order the flags came in: drop non-finite steps
 * first (nothing downstream can repair NaN), then per-coordinate and per-tensor clipping, then the adaptive global
 * bounds, the fixed global bound last (it is the hard guarantee), and decoupled weight decay after the update.
 */
export function buildMitigations(f: MitigationFlags): Mitigations {
  const parts: [string, GradientTransformation][] = [];
  const opt = (v: number | true | undefined): number | undefined => (v === true ? undefined : v);
  if (f.skipNonFinite) parts.push(['skipNonFinite()', skipNonFinite()]);
  if (f.skipOnSpike !== undefined) {
    const sigma = opt(f.skipOnSpike);
    parts.push([`skipOnSpike(${sigma ?? ''})`, skipOnSpike(sigma === undefined ? {} : { sigma })]);
  }
  if (f.spikeClip !== undefined) {
    const t = opt(f.spikeClip);
    parts.push([`spikeClip(${t ?? ''})`, spikeClip(t === undefined ? {} : { threshold: t })]);
  }
  if (f.clipValue !== undefined) parts.push([`clipByValue(${f.clipValue})`, clipByValue(f.clipValue)]);
  if (f.clipNorm !== undefined) parts.push([`clipByNorm(${f.clipNorm})`, clipByNorm(f.clipNorm)]);
  if (f.adaptiveClip !== undefined) parts.push([`adaptiveGradClip(${f.adaptiveClip})`, adaptiveGradClip(f.adaptiveClip)]);
  if (f.adaGc) parts.push(['adaGC()', adaGC()]);
  if (f.zClip !== undefined) {
    const z = opt(f.zClip);
    parts.push([`zClip(${z ?? ''})`, zClip(z === undefined ? {} : { zThreshold: z })]);
  }
  if (f.autoClip !== undefined) {
    const p = opt(f.autoClip);
    parts.push([`autoClip(${p ?? ''})`, autoClip(p === undefined ? {} : { percentile: p })]);
  }
  if (f.clipLayerNorm !== undefined) {
    parts.push([`clipByGroupedGlobalNorm(${f.clipLayerNorm}, by layer)`, clipByGroupedGlobalNorm(f.clipLayerNorm, { groups: layerScope })]);
  }
  if (f.clipGlobalNorm !== undefined) parts.push([`clipByGlobalNorm(${f.clipGlobalNorm})`, clipByGlobalNorm(f.clipGlobalNorm)]);
  if (f.weightDecay !== undefined) parts.push([`decoupledWeightDecay(${f.weightDecay})`, decoupledWeightDecay(f.weightDecay)]);
  const transform = parts.length === 0 ? undefined : parts.length === 1 ? parts[0]![1] : chain(...parts.map((p) => p[1]));
  const backoff = f.lrBackoff === undefined ? undefined : { ...(opt(f.lrBackoff) !== undefined ? { factor: opt(f.lrBackoff)! } : {}) };
  const learningRate =
    backoff || f.lrWarmup !== undefined
      ? controlLearningRate({ ...(backoff ? { backoff } : {}), ...(f.lrWarmup !== undefined ? { warmup: { steps: f.lrWarmup } } : {}) })
      : undefined;
  const names = parts.map((p) => p[0]);
  if (backoff) names.push(`lrBackoff(${opt(f.lrBackoff!) ?? ''})`);
  if (f.lrWarmup !== undefined) names.push(`lrWarmup(${f.lrWarmup})`);
  if (f.rollback) names.push('rollback');
  return { transform, learningRate, rollback: !!f.rollback, description: names.length ? names.join(' → ') : 'none' };
}

/** A variable's layer scope from its name: `dense_Dense1/kernel` → `dense_Dense1` (tfjs names weights `<layer>/<weight>`). */
export function layerScope(variableName: string): string {
  const slash = variableName.lastIndexOf('/');
  return slash > 0 ? variableName.slice(0, slash) : variableName;
}
