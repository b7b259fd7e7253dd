import { ADVICE } from '../advice';
import type { Detector, Finding, LayerDescription } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';
import { unitKind } from './unit-kind';

export interface DetectInitializationOptions {
  /**
   * A kernel whose |mean| is at least this share of its RMS starts with weights of one sign. Default 0.5; a kernel of
   * n entries must also reach 3.5/√n, so that a zero-mean initializer (|mean|/RMS ≈ 1/√n by chance) is never flagged
   * (3.5 standard errors: about 1 in 2,000 layers).
   */
  readonly meanShare?: number;
  /** Kernels with fewer entries are not judged. Default 16. */
  readonly minSize?: number;
}

/**
 * Weights that start with one sign (a `randomUniform(0, 1)` or constant kernel): every unit of the layer computes
 * nearly the same positive combination of its inputs, so the units move together instead of learning different
 * features, and their summed input grows by about mean × fan-in per layer. Through tanh or sigmoid that pushes every
 * unit into the flat tails at once and the gradient vanishes (the Machine Learning Mastery vanishing-gradient example:
 * five Dense(5, tanh) at U(0, 1) never leave 50 % accuracy on two circles, where AUTOTRAINER's gradient rules first
 * fire at epoch 90); through ReLU the signal and the gradient grow with depth. Judged on the kernels as they were before
 * the first update (`LayerDescription.kernel`, which `guard` measures once with `measureKernels`): a warning from the
 * first step on, for as long as the run goes — it describes how the run started. Glorot & Bengio (2010) and He et al.
 * (2015) derive the zero-mean scales that avoid it.
 */
export function detectInitialization(options: DetectInitializationOptions = {}): Detector {
  const where = 'detectInitialization';
  checkOptions(where, options, ['meanShare', 'minSize']);
  const meanShare = checkNumber(where, 'meanShare', options.meanShare ?? 0.5, { exclusiveMin: 0, max: 1 });
  const minSize = checkNumber(where, 'minSize', options.minSize ?? 16, { min: 1, integer: true });
  let finding: readonly Finding[] = [];
  return {
    name: where,
    observe() {
      return finding;
    },
    reset() {
      // The finding describes the weights the run started from: it stays.
    },
    describeModel(layers) {
      const f = judgeInitialization(layers, meanShare, minSize);
      finding = f ? [f] : [];
    },
  };
}

/**
 * The one-sign rule on a model's description (the layers with `kernel` facts): the finding, or undefined. Shared by
 * `detectInitialization` and `inspectModel` (`gradguard doctor`).
 */
export function judgeInitialization(layers: readonly LayerDescription[], meanShare = 0.5, minSize = 16): Finding | undefined {
  const flagged = layers.filter((l): l is LayerDescription & { kernel: NonNullable<LayerDescription['kernel']> } => {
    const k = l.kernel;
    if (!k || k.size < minSize || !(k.rms > 0)) return false;
    return Math.abs(k.mean) / k.rms >= Math.max(meanShare, 3.5 / Math.sqrt(k.size));
  });
  if (flagged.length === 0) return undefined;
  const saturating = flagged.filter((l) => unitKind(l) === 'saturating');
  const share = Math.max(...flagged.map((l) => Math.abs(l.kernel.mean) / l.kernel.rms));
  const push = Math.max(...flagged.map((l) => Math.abs(l.kernel.mean) * l.kernel.fanIn));
  const first = flagged[0]!;
  const last = flagged.at(-1)!;
  const names = flagged.length === 1 ? `Layer "${first.name}" starts` : `Layers "${first.name}" to "${last.name}" (${flagged.length}) start`;
  const problem = saturating.length > 0 ? 'vanishing-gradient' : 'exploding-gradient';
  return {
    problem,
    severity: 'warning',
    layer: (saturating[0] ?? first).name,
    message:
      `${names} with weights of one sign: |mean| up to ${fmt(share)}× their RMS, where a zero-mean initializer ` +
      `gives about 1/√size. Every unit then computes nearly the same combination of its inputs, and the summed ` +
      `input grows by up to mean × fan-in = ${fmt(push)}× per layer` +
      (saturating.length > 0
        ? `: the ${[...new Set(saturating.map((l) => l.activation ?? l.className))].join('/')} units saturate together and the gradient through them vanishes.`
        : ': activations and gradients grow with depth.') +
      ' Use a zero-mean initializer: glorot_uniform for tanh/sigmoid layers, he_uniform for ReLU.',
    evidence: {
      layers: flagged.length,
      firstLayer: first.name,
      lastLayer: last.name,
      meanToRms: share,
      meanTimesFanIn: push,
      saturating: saturating.length,
      threshold: meanShare,
    },
    advice: [
      { remedy: 'betterInitialization', detail: 'Use a zero-mean initializer: glorot_uniform for tanh/sigmoid layers, he_uniform for ReLU layers.' },
      ...ADVICE[problem].filter((a) => a.remedy !== 'betterInitialization'),
    ],
  };
}
