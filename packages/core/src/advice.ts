import type { Advice, Problem, Remedy } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

/**
 * What to try for each problem, most effective first. These follow the usual remedies for exploding gradients
 * (clipping, weight regularization, a smaller learning rate, better initialization, batch normalization, a simpler
 * network, an LSTM instead of a plain RNN) and their mirror images for vanishing ones.
 */
/** The clipping remedies: advice repeats none of them on a step whose update was already clipped. */
export const CLIPPING_REMEDIES: readonly Remedy[] = ['clipByGlobalNorm', 'clipByGroupedGlobalNorm', 'clipByNorm', 'clipByValue', 'adaptiveGradClip', 'adaGC'];

/** The step's update was scaled down by a transformation (and is still finite). */
export function wasClipped(s: Pick<StepStatistics, 'scale' | 'postClipNorm'>): boolean {
  return s.scale < 1 && Number.isFinite(s.postClipNorm);
}

/** The advice for a problem; on a clipped step, without the clipping remedies (point to the cause instead). */
export function adviceFor(problem: Problem, clipped: boolean): readonly Advice[] {
  return clipped ? ADVICE[problem].filter((a) => !CLIPPING_REMEDIES.includes(a.remedy)) : ADVICE[problem];
}

// Advice given word for word for several problems: one object each, so a browser bundle carries the text once.
const CLIP_GLOBAL_NORM: Advice = { remedy: 'clipByGlobalNorm', detail: 'Clip the global gradient norm (e.g. 1.0).' };
const BATCH_NORM_DEEP: Advice = { remedy: 'batchNormalization', detail: 'Add batch normalization between deep layers.' };
const FEWER_LAYERS: Advice = { remedy: 'simplerNetwork', detail: 'Use fewer layers or shorter sequences.' };

export const ADVICE: Readonly<Record<Problem, readonly Advice[]>> = {
  'exploding-gradient': [
    { remedy: 'clipByGlobalNorm', detail: 'Clip the global gradient norm, e.g. clipByGlobalNorm(1.0) (Pascanu et al. 2013).' },
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate by 10x, or back it off when a spike is seen.' },
    { remedy: 'addWeightDecay', detail: 'Add L2 weight regularization (e.g. 1e-4) to keep weights from growing.' },
    { remedy: 'betterInitialization', detail: 'Initialize with glorot/he scaling, and recurrent kernels orthogonal with gain <= 1.' },
    BATCH_NORM_DEEP,
    { remedy: 'useLstm', detail: 'Replace a plain SimpleRNN with an LSTM or GRU, whose gates bound the recurrence.' },
    FEWER_LAYERS,
  ],
  'non-finite': [
    { remedy: 'skipNonFinite', detail: 'Skip updates whose gradients are NaN/Inf instead of writing them into the weights.' },
    { remedy: 'clipByGlobalNorm', detail: 'Clip the global gradient norm (e.g. 1.0) so one bad batch cannot overflow the weights.' },
    { remedy: 'rollback', detail: 'Restore the last finite weights and continue at a lower learning rate.' },
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate by 10x.' },
    { remedy: 'normalizeInputs', detail: 'Check the inputs and labels for NaN/Inf and scale inputs to unit variance.' },
  ],
  'loss-divergence': [
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate by 10x, or add a warm-up.' },
    CLIP_GLOBAL_NORM,
    { remedy: 'rollback', detail: 'Restore the best weights so far and continue at a lower learning rate.' },
    { remedy: 'normalizeInputs', detail: 'Scale inputs to zero mean and unit variance.' },
  ],
  'gradient-spike': [
    { remedy: 'zClip', detail: 'Clip spikes against the run’s own norm statistics with zClip().' },
    CLIP_GLOBAL_NORM,
    { remedy: 'lowerLearningRate', detail: 'Back the learning rate off while spikes occur.' },
  ],
  'weight-growth': [
    { remedy: 'addWeightDecay', detail: 'Add L2 weight regularization or decoupled weight decay (e.g. 1e-4).' },
    CLIP_GLOBAL_NORM,
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate.' },
  ],
  'vanishing-gradient': [
    { remedy: 'changeActivation', detail: 'Use ReLU-family activations instead of sigmoid/tanh in deep stacks.' },
    { remedy: 'betterInitialization', detail: 'Use he initialization for ReLU layers, glorot for tanh.' },
    BATCH_NORM_DEEP,
    { remedy: 'useLstm', detail: 'Use an LSTM or GRU for long sequences.' },
    FEWER_LAYERS,
  ],
  'dying-relu': [
    { remedy: 'changeActivation', detail: 'Use LeakyReLU or ELU so units keep a gradient.' },
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate: large updates knock units into the dead zone.' },
    { remedy: 'betterInitialization', detail: 'Use he initialization and a small positive bias.' },
  ],
  saturation: [
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate 10×: large updates push pre-activations into the flat tails of tanh/sigmoid gates.' },
    { remedy: 'normalizeInputs', detail: 'Scale inputs to zero mean and unit variance: inputs on a large scale saturate the first layer.' },
    { remedy: 'clipByGlobalNorm', detail: 'Clip the global gradient norm (e.g. 1.0) so that one large step cannot saturate the units.' },
    { remedy: 'betterInitialization', detail: 'Initialize with glorot scaling (recurrent kernels orthogonal) so pre-activations start near 0.' },
    { remedy: 'batchNormalization', detail: 'Normalize pre-activations (batch or layer normalization) before saturating layers.' },
  ],
  'clip-starvation': [
    { remedy: 'clipByNorm', detail: 'Clip each tensor by its own norm (clipByNorm) instead of the global norm, so the outlier tensor no longer scales down every other one.' },
    { remedy: 'clipByGroupedGlobalNorm', detail: 'Or clip by global norm per group of tensors, the outlier in a group of its own: clipByGroupedGlobalNorm(1, { groups: [{ match: /^<its layer>/ }] }) (gradguard train: --clip-layer-norm 1); or adaGC(), which bounds each tensor by its own history.' },
    { remedy: 'lowerLearningRate', detail: 'Lower the learning rate if the outlier tensor’s norm keeps growing.' },
  ],
  'recurrent-instability': [
    { remedy: 'betterInitialization', detail: 'Initialize the recurrent kernel orthogonal with gain <= 1 (spectral radius <= 1).' },
    CLIP_GLOBAL_NORM,
    { remedy: 'useLstm', detail: 'Replace SimpleRNN with an LSTM or GRU.' },
    { remedy: 'addWeightDecay', detail: 'Add L2 regularization on the recurrent kernel.' },
  ],
};
