import * as tf from '@tensorflow/tfjs-core';
import { ADVICE } from './advice';
import type { Finding } from './detector';
import { judgeInitialization } from './detectors/detect-initialization';
import { explainRadius, isGated } from './detectors/recurrent-risk';
import { InvalidArgumentError, checkNumber, describeValue } from './errors';
import { formatNumber as fmt } from './format';
import { kernelFactsOnDevice } from './kernel-facts';
import { type LayerLike, type VariableLocation, describeLayers, mapVariablesToLayers } from './layer-map';
import type { Diagnosis } from './run-log/diagnosis';
import type { RecurrentStatistics } from './run-log/statistics';
import { RECURRENT_GATES, type SpectralOptions, recurrentSpectraOnDevice } from './spectral-radius';

/** Recurrent layers: their kernels' growth is judged by the recurrent spectra, not by the dense compounding rule. */
// Pure: built at load, but a bundle that never inspects a model (guard alone) can drop it.
const RECURRENT_CLASSES: ReadonlySet<string> = /* @__PURE__ */ new Set(Object.keys(RECURRENT_GATES));

export interface InspectModelOptions extends SpectralOptions {
  /** Recurrent spectral radius above which a SimpleRNN is flagged (a warning). Default 1, with 0.01 tolerance. */
  readonly maxRadius?: number;
  /** Weighted layers in a row without a normalization layer that make a deep stack (info). Default 10. */
  readonly maxDepthWithoutNormalization?: number;
  /**
   * Initial weight gain, RMS(kernel)·√fan-in, above which a layer's initial scale is too large (warning). He
   * initialization gives √2 ≈ 1.41 and Glorot at most √2, so the default 4 is nearly three times He.
   */
  readonly maxInitialGain?: number;
  /**
   * The product of the weighted layers' initial scales relative to He (RMS·√fan-in / √2), in model order, above which
   * the stack's initial scale compounds into an explosion (warning): ten layers at 2.27× He each are 3.6e3×, although
   * none is above `maxInitialGain`. Default 10.
   */
  readonly maxCompoundGain?: number;
  /** A SimpleRNN whose r^T falls below this is flagged as vanishing (info). Default 1e-6. */
  readonly minRadiusPower?: number;
}

/** What `inspectModel` found: the measurements and the findings, also as diagnoses (step 0, `detector: inspectModel`). */
export interface ModelInspection {
  readonly recurrent: readonly RecurrentStatistics[];
  /** Per weighted layer: RMS(kernel)·√fan-in of its kernel. */
  readonly initialGains: readonly { layer: string; className: string; gain: number }[];
  /** Length of the longest run of weighted layers without a normalization layer between them. */
  readonly depthWithoutNormalization: number;
  readonly findings: readonly Finding[];
  readonly diagnoses: readonly Diagnosis[];
}

const NORMALIZATION = /normalization/i;
const SATURATING = new Set(['sigmoid', 'tanh', 'hardSigmoid', 'softsign']);

/**
 * Static checks before training, measured on the device with one readback: the spectral radius and largest singular
 * value of every SimpleRNN/LSTM/GRU recurrent kernel, per gate ("radius r > 1: gradients through T steps can grow like
 * r^T", Pascanu et al. 2013); deep stacks of weighted layers without batch or layer normalization; and layers whose
 * initial weight scale RMS·√fan-in is far above He/Glorot (Glorot & Bengio 2010; He et al. 2015), or whose kernels start
 * with one sign (`detectInitialization`'s rule).
 *
 * @example
 * const report = await inspectModel(model);
 * for (const f of report.findings) console.log(f.severity, f.message);
 */
export async function inspectModel(model: LayerLike, options: InspectModelOptions = {}): Promise<ModelInspection> {
  const where = 'inspectModel';
  if (model == null || typeof model !== 'object' || !Array.isArray((model as LayerLike).layers)) {
    throw new InvalidArgumentError(
      `${where}: expected a tfjs LayersModel (with .layers), got ${describeValue(model)}.`,
      'Pass the model you are about to train.',
    );
  }
  const maxRadius = checkNumber(where, 'maxRadius', options.maxRadius ?? 1, { exclusiveMin: 0 });
  const maxDepth = checkNumber(where, 'maxDepthWithoutNormalization', options.maxDepthWithoutNormalization ?? 10, { min: 1, integer: true });
  const maxGain = checkNumber(where, 'maxInitialGain', options.maxInitialGain ?? 4, { exclusiveMin: 0 });
  const maxCompound = checkNumber(where, 'maxCompoundGain', options.maxCompoundGain ?? 10, { exclusiveMin: 1 });
  const minRadiusPower = checkNumber(where, 'minRadiusPower', options.minRadiusPower ?? 1e-6, { min: 0 });
  const map = mapVariablesToLayers(model);

  // Layers in order (each layer's first variable's location).
  const layers: { loc: VariableLocation }[] = [];
  for (const loc of map.values()) if (!layers.some((l) => l.loc.layer === loc.layer)) layers.push({ loc });

  // One readback: the recurrent spectra, then each kernel's Σw and Σw² (its mean and RMS, whence its initial gain).
  const spectra = recurrentSpectraOnDevice(map, options);
  const kernelFacts = kernelFactsOnDevice(map);
  const factsAt = spectra.tensor.size;
  const tensor = tf.concat([spectra.tensor, kernelFacts.tensor]);
  spectra.tensor.dispose();
  kernelFacts.tensor.dispose();
  let values: Float32Array | Int32Array | Uint8Array;
  try {
    values = await tensor.data();
  } finally {
    tensor.dispose();
  }
  const recurrent = spectra.decode(values);
  const facts = kernelFacts.decode(values, factsAt);
  const initialGains = [...facts].map(([layer, k]) => ({
    layer,
    className: layers.find((l) => l.loc.layer === layer)!.loc.className,
    gain: k.rms * Math.sqrt(k.fanIn),
  }));

  const findings: Finding[] = [];
  // Recurrent kernels: the worst gate of each layer.
  const worst = new Map<string, RecurrentStatistics>();
  for (const r of recurrent) {
    const w = worst.get(r.layer);
    if (!w || r.spectralRadius > w.spectralRadius) worst.set(r.layer, r);
  }
  for (const r of worst.values()) {
    const why = explainRadius(r);
    const evidence = why.evidence;
    if (r.spectralRadius > maxRadius + 0.01) {
      const gated = isGated(r.className);
      findings.push({
        problem: 'recurrent-instability',
        severity: gated ? 'info' : 'warning',
        layer: r.layer,
        message:
          why.sentence +
          (gated ? ` The ${r.className} gates usually contain this; watch its gradient norm.` : ''),
        evidence,
        advice: ADVICE['recurrent-instability'],
      });
    } else if (!isGated(r.className) && why.growth < minRadiusPower) {
      findings.push({
        problem: 'vanishing-gradient',
        severity: 'info',
        layer: r.layer,
        message: `${why.text.charAt(0).toUpperCase()}${why.text.slice(1)}: early time steps barely reach the loss.`,
        evidence,
        advice: ADVICE['vanishing-gradient'],
      });
    }
  }

  // Deep stacks without normalization: the longest run of weighted layers with no normalization layer between.
  let run = 0;
  let longest = 0;
  let runEnd = '';
  let saturating = false;
  const weighted = new Set(facts.keys());
  for (const l of layers) {
    if (NORMALIZATION.test(l.loc.className)) run = 0;
    else if (weighted.has(l.loc.layer)) {
      run++;
      if (l.loc.activation !== undefined && SATURATING.has(l.loc.activation)) saturating = true;
      if (run > longest) {
        longest = run;
        runEnd = l.loc.layer;
      }
    }
  }
  if (longest >= maxDepth) {
    const problem = saturating ? 'vanishing-gradient' : 'exploding-gradient';
    findings.push({
      problem,
      severity: 'info',
      layer: runEnd,
      message:
        `${longest} weighted layers in a row (up to "${runEnd}") without batch or layer normalization: gradients ` +
        `are multiplied by each layer's Jacobian on the way back and can ${saturating ? 'vanish (saturating activations)' : 'explode or vanish'}.`,
      evidence: { depth: longest, maxDepthWithoutNormalization: maxDepth, saturating },
      advice: ADVICE[problem].filter((a) => a.remedy === 'batchNormalization' || a.remedy === 'simplerNetwork' || a.remedy === 'betterInitialization'),
    });
  }

  for (const g of initialGains) {
    if (!(g.gain > maxGain)) continue;
    findings.push({
      problem: 'exploding-gradient',
      severity: 'warning',
      layer: g.layer,
      message:
        `Layer "${g.layer}" starts with a weight scale RMS·√fan-in = ${fmt(g.gain)}, ${fmt(g.gain / Math.SQRT2)}× He ` +
        `initialization: activations and gradients grow by about that factor per layer.`,
      evidence: { initialGain: g.gain, maxInitialGain: maxGain, heGain: Math.SQRT2 },
      advice: ADVICE['exploding-gradient'].filter((a) => a.remedy === 'betterInitialization' || a.remedy === 'clipByGlobalNorm'),
    });
  }

  // Compounding: each layer multiplies the forward signal (and the gradient on the way back) by about its scale
  // relative to He, so a stack of layers each a little too large explodes together. The longest stretch whose product
  // is largest, among the layers that are not flagged one by one already.
  const dense = initialGains.filter((g) => !RECURRENT_CLASSES.has(g.className));
  let best = { product: 1, from: 0, to: -1 };
  for (let i = 0; i < dense.length; i++) {
    let product = 1;
    for (let j = i; j < dense.length; j++) {
      product *= dense[j]!.gain / Math.SQRT2;
      if (product > best.product) best = { product, from: i, to: j };
    }
  }
  const stretch = dense.slice(best.from, best.to + 1);
  if (best.product > maxCompound && stretch.length >= 3 && !stretch.some((g) => g.gain > maxGain)) {
    findings.push({
      problem: 'exploding-gradient',
      severity: 'warning',
      layer: stretch[0]!.layer,
      message:
        `Layers "${stretch[0]!.layer}" to "${stretch.at(-1)!.layer}" (${stretch.length}) each start at ` +
        `${fmt(Math.min(...stretch.map((g) => g.gain / Math.SQRT2)))}–${fmt(Math.max(...stretch.map((g) => g.gain / Math.SQRT2)))}× He ` +
        `initialization: together they scale activations and gradients by about ${fmt(best.product)}×.`,
      evidence: { compoundGain: best.product, layers: stretch.length, maxCompoundGain: maxCompound, heGain: Math.SQRT2 },
      advice: ADVICE['exploding-gradient'].filter((a) => a.remedy === 'betterInitialization' || a.remedy === 'batchNormalization' || a.remedy === 'clipByGlobalNorm'),
    });
  }

  // Kernels that start with one sign (U(0, 1)-like): the rule guard's monitor applies from step 0.
  const oneSign = judgeInitialization(describeLayers(map, facts));
  if (oneSign) findings.push(oneSign);

  const diagnoses: Diagnosis[] = findings.map((f) => ({
    problem: f.problem,
    severity: f.severity,
    phase: 'onset',
    step: 0,
    ...(f.layer !== undefined ? { layer: f.layer } : {}),
    detector: 'inspectModel',
    message: f.message,
    evidence: f.evidence,
    advice: f.advice,
  }));
  return { recurrent, initialGains, depthWithoutNormalization: longest, findings, diagnoses };
}
