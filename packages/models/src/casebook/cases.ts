import type { Case, CaseFix, CaseLayer } from './case';

const MLM_VANISHING = 'https://machinelearningmastery.com/how-to-fix-vanishing-gradients-using-the-rectified-linear-activation-function/';
const MLM_EXPLODING = 'https://machinelearningmastery.com/how-to-avoid-exploding-gradients-in-neural-networks-with-gradient-clipping/';
const MLM_SCALING = 'https://machinelearningmastery.com/how-to-improve-neural-network-stability-and-modeling-performance-with-data-scaling/';
const MLM_LR = 'https://machinelearningmastery.com/understand-the-dynamics-of-learning-rate-on-deep-learning-neural-networks/';
const MLM_BN = 'https://machinelearningmastery.com/how-to-accelerate-learning-of-deep-neural-networks-with-batch-normalization/';
const AUTOTRAINER = 'https://github.com/shiningrain/AUTOTRAINER (Zhang et al., ICSE 2021)';
const TFJS = 'https://github.com/tensorflow/tfjs-examples';

const uniform01 = { name: 'random_uniform', minval: 0, maxval: 1 } as const;

const deepCircles = (activation: 'tanh' | 'relu', init: 'he_uniform' | typeof uniform01): CaseLayer[] => [
  ...Array.from({ length: 5 }, () => ({ type: 'dense' as const, units: 5, activation, kernelInitializer: init })),
  { type: 'dense', units: 1, activation: 'sigmoid', kernelInitializer: init },
];

const blobMlp: CaseLayer[] = [
  { type: 'dense', units: 50, activation: 'relu', kernelInitializer: 'he_uniform' },
  { type: 'dense', units: 3, activation: 'softmax' },
];

const fix = (name: string, source: string, change: CaseFix['change']): CaseFix => ({ name, source, change });

const CIRCLES = { kind: 'circles', noise: 0.1 } as const;
const BLOBS = { kind: 'blobs', centers: 3, features: 2, std: 2, problemSeed: 2 } as const;
const REGRESSION = { kind: 'regression', features: 20, informative: 10, noise: 0.1, problemSeed: 1 } as const;

/**
 * The casebook: models the team did not design, from public training-problem benchmarks and tutorials
 * (AUTOTRAINER's cases and the Machine Learning Mastery models they were built from), Stack Overflow questions with
 * an accepted answer, and the public tfjs examples. Ground truth is measured (see `CASEBOOK`).
 */
/**
 * A case on the learning-rate tutorial's blob MLP (Dense(50, relu) → Dense(3, softmax), 500 train / 500 test, batch
 * 32, 20 of its 200 epochs, accuracy ≥ 0.75): the published setup, with what a case changes given explicitly.
 */
const blobCase = (c: Pick<Case, 'name' | 'title' | 'source' | 'family' | 'optimizer'> & Partial<Case>): Case => ({
  inputShape: [2],
  layers: blobMlp,
  loss: 'categoricalCrossentropy',
  batchSize: 32,
  epochs: 20,
  trainSamples: 500,
  testSamples: 500,
  data: BLOBS,
  criterion: { metric: 'accuracy', threshold: 0.75 },
  reduced: '20 epochs instead of 200',
  fixes: [],
  ...c,
});

export const CASE_DEFINITIONS: readonly Case[] = [
  {
    name: 'mlm-circles-deep-tanh',
    title: 'Deep tanh MLP on two circles, U(0, 1) weights (vanishing gradients)',
    source: {
      ref: MLM_VANISHING,
      published:
        'make_circles(1000, noise 0.1) scaled to [−1, 1], 500 for training; five Dense(5, tanh) and a sigmoid output, all RandomUniform(0, 1); SGD(lr 0.01, momentum 0.9), binary cross-entropy, 500 epochs: accuracy stays at 0.5 (the model learns nothing). The fix shown: ReLU with he_uniform.',
      autotrainer:
        'AUTOTRAINER demo Gradient_Vanish_Case (same data set): "vanish" found at epoch 90 with val accuracy 0.503; repaired by its SELU solution to 0.847.',
    },
    family: 'vanishing',
    inputShape: [2],
    layers: deepCircles('tanh', uniform01),
    loss: 'binaryCrossentropy',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    batchSize: 32,
    epochs: 100,
    trainSamples: 500,
    testSamples: 500,
    data: CIRCLES,
    criterion: { metric: 'accuracy', threshold: 0.75 },
    reduced: '100 epochs instead of 500',
    fixes: [
      fix('relu-he', MLM_VANISHING, { kind: 'activation', to: 'relu', initializer: 'he_uniform' }),
      fix('selu', AUTOTRAINER, { kind: 'activation', to: 'selu', initializer: 'lecun_normal' }),
      fix('batch-norm', AUTOTRAINER, { kind: 'batch-norm' }),
    ],
  },
  {
    name: 'mlm-circles-deep-relu',
    title: 'Deep ReLU MLP on two circles, he_uniform (the tutorial’s fixed model)',
    source: {
      ref: MLM_VANISHING,
      published: 'The same five hidden layers with ReLU and he_uniform, SGD(0.01, momentum 0.9): about 0.84 accuracy on train and test.',
    },
    family: 'healthy',
    inputShape: [2],
    layers: deepCircles('relu', 'he_uniform'),
    loss: 'binaryCrossentropy',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    batchSize: 32,
    epochs: 100,
    trainSamples: 500,
    testSamples: 500,
    data: CIRCLES,
    criterion: { metric: 'accuracy', threshold: 0.75 },
    reduced: '100 epochs instead of 500',
    fixes: [],
  },
  {
    name: 'mlm-circles-batchnorm',
    title: 'One-hidden-layer ReLU MLP with batch normalization on two circles',
    source: {
      ref: MLM_BN,
      published: 'make_circles(1000, noise 0.1), 500 for training; Dense(50, relu, he_uniform), BatchNormalization, Dense(1, sigmoid); SGD(0.01, momentum 0.9), 100 epochs: about 0.84 accuracy, faster than without batch norm.',
    },
    family: 'healthy',
    inputShape: [2],
    layers: [
      { type: 'dense', units: 50, activation: 'relu', kernelInitializer: 'he_uniform' },
      { type: 'batchNormalization' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    loss: 'binaryCrossentropy',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    batchSize: 32,
    epochs: 30,
    trainSamples: 500,
    testSamples: 500,
    data: CIRCLES,
    criterion: { metric: 'accuracy', threshold: 0.75 },
    reduced: '30 epochs instead of 100',
    fixes: [],
  },
  {
    name: 'mlm-regression-exploding',
    title: 'MLP regression on unscaled targets with SGD momentum (exploding gradients, NaN)',
    source: {
      ref: MLM_EXPLODING,
      published:
        'make_regression(1000 samples, 20 features, noise 0.1), 500 for training, targets unscaled; Dense(25, relu, he_uniform), Dense(1); SGD(0.01, momentum 0.9), MSE, 100 epochs: the loss is NaN from the first epoch. Fixes shown: clipnorm=1.0, clipvalue=5.0, and (companion tutorial) scaling the target.',
    },
    family: 'exploding',
    inputShape: [20],
    layers: [
      { type: 'dense', units: 25, activation: 'relu', kernelInitializer: 'he_uniform' },
      { type: 'dense', units: 1, activation: 'linear' },
    ],
    loss: 'meanSquaredError',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    batchSize: 32,
    epochs: 15,
    trainSamples: 500,
    testSamples: 500,
    data: REGRESSION,
    criterion: { metric: 'r2', threshold: 0.9 },
    reduced: '15 epochs instead of 100',
    fixes: [
      fix('clipnorm-1', MLM_EXPLODING, { kind: 'clipnorm', value: 1 }),
      fix('clipvalue-5', MLM_EXPLODING, { kind: 'clipvalue', value: 5 }),
      fix('scale-target', MLM_SCALING, { kind: 'normalize-data' }),
      fix('lower-learning-rate', 'https://stackoverflow.com/questions/37232782 (accepted answer: lower the learning rate, normalize)', { kind: 'learning-rate', factor: 0.01 }),
    ],
  },
  {
    name: 'mlm-regression-scaled',
    title: 'The same regression MLP with standardized targets',
    source: {
      ref: MLM_SCALING,
      published: 'The regression MLP of the exploding-gradient tutorial with the target standardized: SGD(0.01, momentum 0.9) trains to a small, stable MSE.',
    },
    family: 'healthy',
    inputShape: [20],
    layers: [
      { type: 'dense', units: 25, activation: 'relu', kernelInitializer: 'he_uniform' },
      { type: 'dense', units: 1, activation: 'linear' },
    ],
    loss: 'meanSquaredError',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    batchSize: 32,
    epochs: 15,
    trainSamples: 500,
    testSamples: 500,
    data: { ...REGRESSION, standardizeTargets: true },
    criterion: { metric: 'r2', threshold: 0.9 },
    reduced: '15 epochs instead of 100',
    fixes: [],
  },
  {
    name: 'mlm-regression-adam',
    title: 'The unscaled regression with Adam (large but stable gradient norms)',
    source: {
      ref: 'https://stackoverflow.com/questions/37232782 (answers: an adaptive optimizer such as Adam for NaN regression losses)',
      published: 'The regression MLP of the exploding-gradient tutorial, targets still unscaled (std ≈ 180), trained with Adam: gradient norms in the thousands, yet every update is bounded by the rate and the loss falls.',
    },
    family: 'healthy',
    inputShape: [20],
    layers: [
      { type: 'dense', units: 25, activation: 'relu', kernelInitializer: 'he_uniform' },
      { type: 'dense', units: 1, activation: 'linear' },
    ],
    loss: 'meanSquaredError',
    optimizer: { name: 'adam', learningRate: 0.05 },
    batchSize: 32,
    epochs: 15,
    trainSamples: 500,
    testSamples: 500,
    data: REGRESSION,
    criterion: { metric: 'r2', threshold: 0.9 },
    reduced: '15 epochs instead of 100',
    fixes: [],
  },
  blobCase({
    name: 'mlm-blobs-lr-1',
    title: 'Blob classifier with SGD at learning rate 1.0 (oscillation, divergence)',
    source: {
      ref: MLM_LR,
      published:
        'make_blobs(1000, 3 centers, 2 features, cluster_std 2), 500 for training; Dense(50, relu, he_uniform), Dense(3, softmax); SGD at rates 1E-0 … 1E-7, 200 epochs: at 1.0 the accuracy swings wildly and ends poor; 0.1 and 0.01 learn well.',
    },
    family: 'exploding',
    optimizer: { name: 'sgd', learningRate: 1 },
    reduced: '20 epochs instead of 200; blob centers drawn from problemSeed 2 (ours, not sklearn’s stream)',
    fixes: [
      fix('lr-0.1', MLM_LR, { kind: 'learning-rate', factor: 0.1 }),
      fix('lr-0.01', MLM_LR, { kind: 'learning-rate', factor: 0.01 }),
      fix('adam', MLM_LR, { kind: 'optimizer', optimizer: { name: 'adam', byName: true } }),
    ],
  }),
  blobCase({
    name: 'mlm-blobs-lr-0.1',
    title: 'Blob classifier with plain SGD at 0.1 (healthy)',
    source: { ref: MLM_LR, published: 'The blob MLP with SGD at 1E-1, no momentum: among the rates that learn well (with 0.01).' },
    family: 'healthy',
    optimizer: { name: 'sgd', learningRate: 0.1 },
  }),
  blobCase({
    name: 'mlm-blobs-momentum',
    title: 'Blob classifier with SGD 0.01 and momentum 0.9',
    source: { ref: MLM_LR, published: 'The blob MLP with SGD(0.01, momentum 0.9): converges to about 0.8 accuracy quickly.' },
    family: 'healthy',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
  }),
  blobCase({
    name: 'mlm-blobs-momentum-099',
    title: 'Blob classifier with momentum 0.99 (unusual optimizer setting, healthy)',
    source: { ref: MLM_LR, published: 'The blob MLP with SGD(0.01, momentum 0.99): learns, with visibly larger swings of the loss than at 0.9.' },
    family: 'healthy',
    optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.99 },
  }),
  blobCase({
    name: 'mlm-blobs-adam',
    title: 'Blob classifier with Adam by name (adaptive rate, healthy)',
    source: { ref: MLM_LR, published: 'The blob MLP compiled with the adaptive optimizers by name (Adam, RMSprop, Adagrad) in the tutorial’s last section: all three learn to about 0.8 accuracy.' },
    family: 'healthy',
    optimizer: { name: 'adam', byName: true },
  }),
  blobCase({
    name: 'mlm-blobs-rmsprop',
    title: 'Blob classifier with RMSprop by name (healthy)',
    source: { ref: MLM_LR, published: 'The same blob MLP compiled with RMSprop by name: learns to about 0.8 accuracy.' },
    family: 'healthy',
    optimizer: { name: 'rmsprop', byName: true },
  }),
  blobCase({
    name: 'blobs-adam-dcgan-betas',
    title: 'Blob classifier with Adam(2e-4, β1 0.5) (unusual optimizer setting, healthy)',
    source: {
      ref: 'Radford, Metz & Chintala, "Unsupervised Representation Learning with DCGANs", ICLR 2016 (Adam lr 0.0002, β1 0.5); model from ' + MLM_LR,
      published: 'DCGAN’s published Adam settings (lr 0.0002, β1 0.5 instead of 0.9), widely copied into other models, on the blob MLP.',
    },
    family: 'healthy',
    optimizer: { name: 'adam', learningRate: 0.0002, beta1: 0.5 },
    epochs: 40,
    reduced: '40 epochs',
  }),
  {
    name: 'autotrainer-blobs-relu-output',
    title: 'Deep ReLU MLP with a ReLU output under categorical cross-entropy (AUTOTRAINER improper activation)',
    source: {
      ref: `${AUTOTRAINER}, AutoTrainer/demo_case/Improper_Activation_case/demo_activation.py`,
      published:
        'Four Dense(50, relu, he_uniform) and Dense(3, relu) (softmax commented out); Adam(lr 1e-4), batch 256, 300 epochs, categorical cross-entropy on the blob data (3 centers, std 2, 700 for training).',
      autotrainer: 'A demo of its improper-activation detection and repair (no recorded result in the repository).',
    },
    family: 'vanishing',
    inputShape: [2],
    layers: [
      ...Array.from({ length: 4 }, () => ({ type: 'dense' as const, units: 50, activation: 'relu' as const, kernelInitializer: 'he_uniform' as const })),
      { type: 'dense', units: 3, activation: 'relu' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { name: 'adam', learningRate: 0.0001 },
    batchSize: 256,
    epochs: 60,
    trainSamples: 700,
    testSamples: 300,
    data: BLOBS,
    criterion: { metric: 'accuracy', threshold: 0.75 },
    reduced: '60 epochs instead of 300',
    fixes: [
      fix('softmax-output', AUTOTRAINER, { kind: 'output-activation', to: 'softmax' }),
    ],
  },
  {
    name: 'so-52800582-power-4',
    title: 'Fitting y = x⁴ on x ∈ [−100, 100] with a sigmoid first layer (targets of 1e8: gradients of 1e8, no learning)',
    source: {
      ref: 'https://stackoverflow.com/questions/52800582 ("Why do I fail to predict y=x**4 with keras? (y=x**3 works)")',
      published:
        'Inputs in [−100, 100], targets up to 1e8; Dense(50, sigmoid), Dense(50, elu), Dense(1) with glorot_uniform (the answer derives the widths from the ±0.34 weight range). Accepted answer: the sigmoid units saturate (derivative ≈ 0) and the outputs are 1e8 times the weights’ scale: scale inputs and outputs.',
    },
    // Labelled by measurement, not by the answer's first point: every layer's gradient is 4e7–2e8 from step 0 (seed 1:
    // 4.2e7, 1.5e8, 1.1e8 in dense_1..3; global 1.3e8–2.3e8 over steps 0–4), nothing vanishes — the sigmoid units' small
    // derivative is swamped by an error of 1e8. The cause is the one of mlm-regression-exploding (MLM's exploding-gradient
    // example): regression targets far off the weights' scale, with the same accepted fix (scale the data). Adam bounds
    // each step, so instead of NaN the loss stalls at ~1e15 (seed 1 doubles at step 9).
    family: 'exploding',
    inputShape: [1],
    layers: [
      { type: 'dense', units: 50, activation: 'sigmoid' },
      { type: 'dense', units: 50, activation: 'elu' },
      { type: 'dense', units: 1, activation: 'linear' },
    ],
    loss: 'meanSquaredError',
    optimizer: { name: 'adam', byName: true },
    batchSize: 32,
    epochs: 20,
    trainSamples: 1000,
    testSamples: 500,
    data: { kind: 'power', exponent: 4, range: 100 },
    criterion: { metric: 'r2', threshold: 0.8 },
    reduced: 'optimizer not stated in the question: Adam by name assumed; 20 epochs',
    fixes: [fix('scale-data', 'https://stackoverflow.com/questions/52800582 (accepted answer)', { kind: 'normalize-data' })],
  },
  {
    name: 'tfjs-lstm-text-generation',
    title: 'tfjs lstm-text-generation: next-character LSTM with RMSProp 0.01',
    source: {
      ref: `${TFJS}/tree/master/lstm-text-generation`,
      published: 'Windows of 40 one-hot characters (step 3) from a corpus, LSTM(128), Dense(vocabulary, softmax); tf.train.rmsprop(0.01), categorical cross-entropy, batch 128.',
    },
    family: 'healthy',
    inputShape: [10, 20],
    layers: [
      { type: 'lstm', units: 32 },
      { type: 'dense', units: 20, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { name: 'rmsprop', learningRate: 0.01 },
    batchSize: 128,
    epochs: 6,
    trainSamples: 1024,
    testSamples: 512,
    data: { kind: 'text', alphabet: 20, sampleLength: 10, problemSeed: 4 },
    criterion: { metric: 'accuracy', threshold: 0.55 },
    reduced: 'a Markov-chain corpus of 20 characters instead of Nietzsche; 10-character windows; LSTM(32); 1024 windows, 6 epochs',
    fixes: [],
  },
  {
    name: 'tfjs-jena-simple-rnn',
    title: 'tfjs jena-weather: SimpleRNN temperature forecaster',
    source: {
      ref: `${TFJS}/tree/master/jena-weather`,
      published: 'The example’s simpleRNN model type: SimpleRNN(32), Dense(1), \'rmsprop\', mean absolute error.',
    },
    family: 'healthy',
    inputShape: [24, 3],
    layers: [
      { type: 'simpleRNN', units: 32 },
      { type: 'dense', units: 1 },
    ],
    loss: 'meanAbsoluteError',
    optimizer: { name: 'rmsprop', byName: true },
    batchSize: 64,
    epochs: 8,
    trainSamples: 1024,
    testSamples: 512,
    data: { kind: 'weather', lookBack: 24, delay: 1, features: 3 },
    criterion: { metric: 'mae', threshold: 0.3 },
    reduced: 'generated series as for tfjs-jena-gru; 8 epochs',
    fixes: [],
  },
  {
    name: 'tfjs-iris',
    title: 'tfjs iris: Dense(10, sigmoid) classifier with Adam 0.01 on raw measurements',
    source: {
      ref: `${TFJS}/tree/master/iris`,
      published: 'Iris measurements (not normalized), Dense(10, sigmoid), Dense(3, softmax); tf.train.adam(0.01), categorical cross-entropy, 40 epochs: about 0.95+ accuracy.',
    },
    family: 'healthy',
    inputShape: [4],
    layers: [
      { type: 'dense', units: 10, activation: 'sigmoid' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { name: 'adam', learningRate: 0.01 },
    batchSize: 32,
    epochs: 40,
    trainSamples: 120,
    testSamples: 300,
    data: { kind: 'iris' },
    criterion: { metric: 'accuracy', threshold: 0.85 },
    reduced: 'flowers drawn from the published per-class means and deviations',
    fixes: [],
  },
  {
    name: 'tfjs-boston-mlp',
    title: 'tfjs boston-housing: one-hidden-layer sigmoid MLP on normalized features, SGD 0.01',
    source: {
      ref: `${TFJS}/tree/master/boston-housing`,
      published: '12 normalized features, Dense(50, sigmoid, leCunNormal), Dense(1); tf.train.sgd(0.01), MSE, batch 40, 200 epochs.',
    },
    family: 'healthy',
    inputShape: [12],
    layers: [
      { type: 'dense', units: 50, activation: 'sigmoid', kernelInitializer: 'lecun_normal' },
      { type: 'dense', units: 1 },
    ],
    loss: 'meanSquaredError',
    optimizer: { name: 'sgd', learningRate: 0.01 },
    batchSize: 40,
    epochs: 30,
    trainSamples: 333,
    testSamples: 500,
    data: { kind: 'housing', normalized: true, problemSeed: 5 },
    criterion: { metric: 'r2', threshold: 0.6 },
    reduced: 'houses drawn from the features’ published means and scales with a linear price; 30 epochs instead of 200',
    fixes: [],
  },
  {
    name: 'tfjs-boston-unnormalized',
    title: 'tfjs boston-housing linear model on unnormalized features (NaN)',
    source: {
      ref: `${TFJS}/tree/master/boston-housing`,
      published:
        'The example’s linear regression (Dense(1)) with tf.train.sgd(0.01) — but fed the raw features, whose scales run from 0.1 (NOX) to 400 (TAX); the example normalizes them first, and its book (Deep Learning with JavaScript, ch. 2) explains that unnormalized features make SGD unstable.',
    },
    family: 'exploding',
    inputShape: [12],
    layers: [{ type: 'dense', units: 1 }],
    loss: 'meanSquaredError',
    optimizer: { name: 'sgd', learningRate: 0.01 },
    batchSize: 40,
    epochs: 30,
    trainSamples: 333,
    testSamples: 500,
    data: { kind: 'housing', normalized: false, problemSeed: 5 },
    criterion: { metric: 'r2', threshold: 0.6 },
    reduced: '30 epochs instead of 200',
    fixes: [
      fix('normalize-features', `${TFJS}/tree/master/boston-housing`, { kind: 'normalize-data' }),
      fix('adam', 'https://stackoverflow.com/questions/37232782 (answers: an adaptive optimizer)', { kind: 'optimizer', optimizer: { name: 'adam', learningRate: 0.1 } }),
    ],
  },
  {
    name: 'tfjs-addition-rnn-adam-1',
    title: 'tfjs addition-rnn LSTM encoder–decoder trained with Adam at learning rate 1 (loss ×2–3 at step 2, stays up)',
    source: {
      ref: `${TFJS}/tree/master/addition-rnn`,
      published:
        'Questions "a+b" as one-hot characters, LSTM encoder, RepeatVector(digits + 1), LSTM decoder with returnSequences, TimeDistributed(Dense(vocabulary, softmax)); \'adam\' by name, categorical cross-entropy. Here the rate is set to 1, a thousand times the named default: the misconfiguration of issue 13 (the loss jumps ×3–4 in the first steps and stays).',
    },
    family: 'exploding',
    inputShape: [5, 12],
    layers: [
      { type: 'lstm', units: 16 },
      { type: 'repeatVector', n: 3 },
      { type: 'lstm', units: 16, returnSequences: true },
      { type: 'timeDistributedDense', units: 12, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { name: 'adam', learningRate: 1 },
    batchSize: 64,
    epochs: 6,
    trainSamples: 1024,
    testSamples: 512,
    data: { kind: 'addition', digits: 2 },
    // Per-character accuracy: 0.37 is what predicting each position's commonest character scores (a leading '1' in
    // about half the sums of two 2-digit numbers, a padding space in the other half); 0.42 means digits were learned.
    criterion: { metric: 'accuracy', threshold: 0.42 },
    reduced: '2-digit sums, LSTM(16) instead of 128, 1024 questions, 6 epochs (96 steps)',
    fixes: [fix('lower-learning-rate', MLM_LR, { kind: 'learning-rate', factor: 0.1 })],
  },
  {
    name: 'tfjs-lstm-text-generation-rmsprop-1',
    title: 'tfjs lstm-text-generation with the page’s learning-rate field set to 1 (loss ×4–5 at step 2, stays up)',
    source: {
      ref: `${TFJS}/tree/master/lstm-text-generation`,
      published:
        'The example’s LSTM next-character model with tf.train.rmsprop, whose learning rate the example’s page lets the user type (default 1e-2); here 1. RMSProp’s step is about the rate whatever the gradient’s size, so every weight moves by ~1 per step.',
    },
    family: 'exploding',
    inputShape: [10, 20],
    layers: [
      { type: 'lstm', units: 32 },
      { type: 'dense', units: 20, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { name: 'rmsprop', learningRate: 1 },
    batchSize: 128,
    epochs: 6,
    trainSamples: 1024,
    testSamples: 512,
    data: { kind: 'text', alphabet: 20, sampleLength: 10, problemSeed: 4 },
    criterion: { metric: 'accuracy', threshold: 0.55 },
    reduced: 'as tfjs-lstm-text-generation',
    fixes: [
      fix('example-rate', `${TFJS}/tree/master/lstm-text-generation (default learning rate 1e-2)`, { kind: 'learning-rate', factor: 0.01 }),
      fix('lower-learning-rate', MLM_LR, { kind: 'learning-rate', factor: 0.1 }),
    ],
  },
];
