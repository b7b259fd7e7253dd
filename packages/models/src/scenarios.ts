import type { ModelSpec } from './model-spec';
import type { OptimizerSpec } from './optimizer-spec';
import type { ExpectedProblem, RepairKnob, Scenario } from './scenario';
import type { TaskSpec } from './task-spec';

const sineWindow = { name: 'noisy-sine', sequenceLength: 16, flatten: true } as const satisfies TaskSpec;
const sineSequence = { name: 'noisy-sine', sequenceLength: 10 } as const satisfies TaskSpec;
const spirals = { name: 'two-spirals' } as const satisfies TaskSpec;
const he = { kind: 'he-normal' } as const;
const adam = (learningRate: number): OptimizerSpec => ({ name: 'adam', learningRate });
const sgd = (learningRate: number): OptimizerSpec => ({ name: 'sgd', learningRate });

interface Draft {
  readonly name: string;
  readonly description: string;
  readonly expected: ExpectedProblem;
  readonly model: ModelSpec;
  readonly task: TaskSpec;
  readonly optimizer: OptimizerSpec;
  readonly steps: number;
  readonly repairs?: readonly RepairKnob[];
  readonly quick?: boolean;
  readonly batchSize?: number;
  readonly samples?: number;
  readonly seed?: number;
}

function scenario(d: Draft): Scenario {
  return Object.freeze({
    name: d.name,
    description: d.description,
    expected: d.expected,
    model: d.model,
    task: d.task,
    optimizer: d.optimizer,
    steps: d.steps,
    batchSize: d.batchSize ?? 32,
    samples: d.samples ?? 256,
    evalSamples: 256,
    seed: d.seed ?? 1,
    quick: d.quick ?? false,
    repairs: d.repairs ?? [],
  });
}

/**
 * The scenario suite: broken runs, each reproducing one named problem from a known cause, and healthy runs that must
 * train to their task criterion with no warning. Every run is small: training the whole suite took 98 s and the
 * `quick` subset 22 s on the cpu backend of a shared 2-core machine under heavy load (less alone; wasm is faster).
 * Numbers in the descriptions were measured on the cpu backend with the scenario's seed.
 */
export const SCENARIOS: readonly Scenario[] = Object.freeze([
  // ── exploding gradients ────────────────────────────────────────────────────────────────────────────────────────
  scenario({
    name: 'exploding-rnn-recurrent-gain',
    description: 'ReLU SimpleRNN(32) with an orthogonal recurrent kernel of gain 1.5 reading 40 steps of a noisy sine, SGD 0.05: the loss is ~1e3 at step 0 and NaN at step 1, as 1.5^40 ≈ 1e7 predicts (Pascanu et al. 2013). With gain 1 it learns the task in 100 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 32, activation: 'relu', recurrentRadius: 1.5 },
    task: { name: 'noisy-sine', sequenceLength: 40 },
    optimizer: sgd(0.05),
    steps: 100,
    quick: true,
    repairs: ['clipping', 'learning-rate', 'initializer', 'cell'],
  }),
  scenario({
    name: 'exploding-rnn-recurrent-gain-sine',
    description: 'ReLU SimpleRNN(16) with recurrent spectral radius 2 reading 30 steps of a noisy sine, SGD 0.05: radius^T growth, NaN within a few steps; with radius 1 it learns the task in 100 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'relu', recurrentRadius: 2 },
    task: { name: 'noisy-sine', sequenceLength: 30 },
    optimizer: sgd(0.05),
    steps: 100,
    repairs: ['clipping', 'learning-rate', 'initializer', 'cell'],
  }),
  scenario({
    name: 'exploding-mlp-large-init',
    description: '12-layer ReLU MLP initialized N(0, 0.5²) (He would be N(0, 1/16) at width 32): activations grow ×2.8 per layer, gradient norm ~1e8, NaN at step 2; He init learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'mlp', depth: 12, width: 32, activation: 'relu', kernelInitializer: { kind: 'scaled-normal', stddev: 0.5 } },
    task: sineWindow,
    optimizer: sgd(0.01),
    steps: 150,
    quick: true,
    repairs: ['clipping', 'learning-rate', 'initializer', 'batch-norm'],
  }),
  scenario({
    name: 'exploding-mlp-he-times-two',
    description: '10-layer ReLU MLP with He init scaled ×2 in standard deviation: ×2 per layer in both passes, the loss ~6e4 at step 0 and NaN at step 2; plain He init learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'mlp', depth: 10, width: 32, activation: 'relu', kernelInitializer: { kind: 'he-normal', scale: 2 } },
    task: sineWindow,
    optimizer: sgd(0.01),
    steps: 150,
    repairs: ['clipping', 'learning-rate', 'initializer', 'batch-norm'],
  }),
  scenario({
    name: 'exploding-mlp-high-lr',
    description: '3-layer tanh MLP (sane init, gradient norm ~5) regressing a sine window with SGD at lr 1: every step overshoots, the norm grows geometrically and the loss is Infinity by step ~15; at lr 0.1 it learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'tanh' },
    task: sineWindow,
    optimizer: sgd(1),
    steps: 150,
    quick: true,
    repairs: ['clipping', 'learning-rate'],
  }),
  scenario({
    name: 'exploding-lstm-high-lr',
    description: 'LSTM(8) on noisy-sine next-step prediction (T = 10) with SGD at lr 5: gating does not save a wild learning rate, the loss is Infinity by step ~13; at lr 0.5 it learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'recurrent', cell: 'lstm', units: 8 },
    task: sineSequence,
    optimizer: sgd(5),
    steps: 150,
    repairs: ['clipping', 'learning-rate'],
  }),
  scenario({
    name: 'exploding-rnn-unnormalized-inputs',
    description: 'ReLU SimpleRNN(16) fed a noisy sine scaled ×1000 (raw sensor units), SGD 0.05: the loss is ~1e5 at step 0, NaN at step 1; with unit-scale inputs it learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'relu' },
    task: { name: 'noisy-sine', sequenceLength: 20, inputScale: 1000 },
    optimizer: sgd(0.05),
    steps: 150,
    quick: true,
    repairs: ['input-scale', 'clipping', 'learning-rate', 'batch-norm'],
  }),
  scenario({
    name: 'exploding-mlp-unnormalized-inputs',
    description: '3-layer ReLU MLP (He init) on sine windows scaled ×100, SGD 0.05: the loss is ~3e4 at step 0, NaN by step 2; with unit-scale inputs it learns the task in 150 steps.',
    expected: 'exploding-gradient',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'relu', kernelInitializer: he },
    task: { ...sineWindow, inputScale: 100 },
    optimizer: sgd(0.05),
    steps: 150,
    repairs: ['input-scale', 'clipping', 'learning-rate', 'batch-norm'],
  }),
  // ── vanishing gradients ────────────────────────────────────────────────────────────────────────────────────────
  scenario({
    name: 'vanishing-mlp-deep-sigmoid',
    description: '16-layer sigmoid MLP (Glorot init) on two spirals: sigmoid\'s slope is at most 1/4, so the first layer\'s gradient is ~1e-11 of the last one\'s and the net stays at chance for 200 steps (Glorot & Bengio 2010); as ReLU/He it reaches 99 %.',
    expected: 'vanishing-gradient',
    model: { kind: 'mlp', depth: 16, width: 32, activation: 'sigmoid' },
    task: spirals,
    optimizer: sgd(0.1),
    steps: 200,
    quick: true,
    repairs: ['activation', 'initializer', 'batch-norm'],
  }),
  scenario({
    name: 'vanishing-mlp-sigmoid-regression',
    description: '12-layer sigmoid MLP regressing sine windows: first-layer gradient ~1e-8 of the last one\'s; the loss stalls at the predict-the-mean baseline for 150 steps, which ReLU/He or batch norm turn into MSE ~0.02.',
    expected: 'vanishing-gradient',
    model: { kind: 'mlp', depth: 12, width: 32, activation: 'sigmoid' },
    task: sineWindow,
    optimizer: sgd(0.05),
    steps: 150,
    repairs: ['activation', 'initializer', 'batch-norm'],
  }),
  scenario({
    name: 'vanishing-mlp-small-init',
    description: '10-layer tanh MLP initialized N(0, 0.05²) (Glorot would be N(0, 1/32)): each layer shrinks the signal, first-layer gradient ~3e-4 of the last one\'s, the loss stalls at baseline.',
    expected: 'vanishing-gradient',
    model: { kind: 'mlp', depth: 10, width: 32, activation: 'tanh', kernelInitializer: { kind: 'scaled-normal', stddev: 0.05 } },
    task: sineWindow,
    optimizer: sgd(0.05),
    steps: 40,
    repairs: ['initializer', 'batch-norm'],
  }),
  scenario({
    name: 'vanishing-rnn-long-sequence',
    description: 'tanh SimpleRNN(16) with recurrent radius 0.5 on temporal order at T = 30, Adam 0.02: the gradient from t = 0 is bounded by 0.5^29 ≈ 2e-9 of the last step\'s and from the relevant symbols (10+ steps back) by ~1e-3; accuracy stays near 70 % in 100 steps, where a GRU reaches 100 % (Bengio et al. 1994).',
    expected: 'vanishing-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'tanh', recurrentRadius: 0.5 },
    task: { name: 'temporal-order', sequenceLength: 30 },
    optimizer: adam(0.02),
    steps: 100,
    samples: 512,
    repairs: ['cell', 'initializer'],
  }),
  scenario({
    name: 'vanishing-rnn-stacked-sigmoid',
    description: 'Two stacked sigmoid SimpleRNN(16) layers with recurrent radius 0.5 on temporal order (T = 25), Adam 0.02: through time each layer passes back at most 0.5^24 ≈ 6e-8 of the gradient (less: sigmoid\'s slope is ≤ 1/4); accuracy stays near chance in 100 steps, where two stacked GRUs reach 100 %.',
    expected: 'vanishing-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'sigmoid', layers: 2, recurrentRadius: 0.5 },
    task: { name: 'temporal-order', sequenceLength: 25 },
    optimizer: adam(0.02),
    steps: 100,
    samples: 512,
    repairs: ['cell', 'activation', 'batch-norm'],
  }),
  scenario({
    name: 'vanishing-rnn-adding-long-sequence',
    description: 'tanh SimpleRNN(16) with recurrent radius 0.5 on the adding problem at T = 25, Adam 0.01: the gradient from the first steps is bounded by 0.5^24 ≈ 6e-8, the first marked value is out of reach and the MSE stays at the 1/6 baseline for 150 steps, where a GRU gets under 0.04.',
    expected: 'vanishing-gradient',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'tanh', recurrentRadius: 0.5 },
    task: { name: 'adding', sequenceLength: 25 },
    optimizer: adam(0.01),
    steps: 150,
    samples: 1024,
    repairs: ['cell', 'initializer'],
  }),
  // ── dying ReLU ─────────────────────────────────────────────────────────────────────────────────────────────────
  scenario({
    name: 'dying-relu-negative-bias',
    description: '4-layer ReLU MLP whose biases start at -1: most units output 0 for every input, pass no gradient, and never revive; the loss stays at baseline.',
    expected: 'dying-relu',
    model: { kind: 'mlp', depth: 4, width: 32, activation: 'relu', kernelInitializer: he, biasInitializer: -1 },
    task: sineWindow,
    optimizer: adam(0.01),
    steps: 40,
    quick: true,
    repairs: ['initializer', 'activation', 'batch-norm'],
  }),
  scenario({
    name: 'dying-relu-negative-bias-spirals',
    description: '6-layer ReLU MLP on two spirals with biases starting at -0.5: the deeper layers are dead from the first step and the net stays at chance.',
    expected: 'dying-relu',
    model: { kind: 'mlp', depth: 6, width: 32, activation: 'relu', kernelInitializer: he, biasInitializer: -0.5 },
    task: spirals,
    optimizer: adam(0.01),
    steps: 40,
    repairs: ['initializer', 'activation', 'batch-norm'],
  }),
  scenario({
    name: 'dying-relu-high-lr',
    description: '4-layer ReLU MLP on two spirals with SGD at lr 10: the first large updates push most pre-activations negative for every input; most units die and the gradients become exactly 0.',
    expected: 'dying-relu',
    model: { kind: 'mlp', depth: 4, width: 32, activation: 'relu', kernelInitializer: he },
    task: spirals,
    optimizer: sgd(10),
    steps: 30,
    repairs: ['learning-rate', 'activation', 'batch-norm'],
  }),
  // ── loss divergence ────────────────────────────────────────────────────────────────────────────────────────────
  scenario({
    name: 'loss-divergence-adam-high-lr',
    description: '3-layer ReLU MLP on two spirals with Adam at lr 1: the loss climbs from 0.70 to ~8 and stays there for 300 steps (finite: the sigmoid output saturates), accuracy near chance. At lr 0.1 it reaches 99 % held-out accuracy, but its ReLUs still die in part: Adam at 0.1 is still too fast for them.',
    expected: 'loss-divergence',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'relu', kernelInitializer: he },
    task: spirals,
    optimizer: adam(1),
    steps: 300,
    quick: true,
    repairs: ['learning-rate', 'activation'],
  }),
  scenario({
    name: 'loss-divergence-rmsprop-high-lr',
    description: '3-layer tanh MLP on two spirals with RMSprop at lr 0.5: the loss climbs from 0.65 to ~8 and stays finite, accuracy at chance for 300 steps; at lr 0.05 it reaches 98 %.',
    expected: 'loss-divergence',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'tanh' },
    task: spirals,
    optimizer: { name: 'rmsprop', learningRate: 0.5 },
    steps: 300,
    repairs: ['learning-rate'],
  }),
  scenario({
    name: 'loss-divergence-regression',
    description: '3-layer tanh MLP regressing sine windows with Adam at lr 1: the loss swings up to ~450 and ends ~5× where it started, still finite.',
    expected: 'loss-divergence',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'tanh' },
    task: sineWindow,
    optimizer: adam(1),
    steps: 40,
    repairs: ['learning-rate'],
  }),
  // ── healthy ────────────────────────────────────────────────────────────────────────────────────────────────────
  scenario({
    name: 'healthy-mlp-spirals',
    description: '3-layer ReLU MLP, He init, Adam 0.02 on two spirals: ~99 % held-out accuracy in 300 steps.',
    expected: 'healthy',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'relu', kernelInitializer: he },
    task: spirals,
    optimizer: adam(0.02),
    steps: 300,
    quick: true,
  }),
  scenario({
    name: 'healthy-mlp-tanh-l2-spirals',
    description: '3-layer tanh MLP, Glorot init, L2 1e-4 on every kernel, Adam 0.02 on two spirals: ~99 % held-out accuracy.',
    expected: 'healthy',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'tanh', regularizer: { l2: 1e-4 } },
    task: spirals,
    optimizer: adam(0.02),
    steps: 300,
  }),
  scenario({
    name: 'healthy-mlp-sine',
    description: '3-layer ReLU MLP, He init, Adam 0.01 predicting the next value of a noisy sine from a 16-step window: MSE ~0.01.',
    expected: 'healthy',
    model: { kind: 'mlp', depth: 3, width: 32, activation: 'relu', kernelInitializer: he },
    task: sineWindow,
    optimizer: adam(0.01),
    steps: 150,
    quick: true,
  }),
  scenario({
    name: 'healthy-mlp-deep-batchnorm',
    description: 'The exploding 12-layer N(0, 0.5²) ReLU MLP cured by batch normalization before every activation, Adam 0.01: trains to MSE < 0.05.',
    expected: 'healthy',
    model: { kind: 'mlp', depth: 8, width: 32, activation: 'relu', kernelInitializer: { kind: 'scaled-normal', stddev: 0.5 }, batchNorm: true },
    task: sineWindow,
    optimizer: adam(0.01),
    steps: 150,
    samples: 1024,
  }),
  scenario({
    name: 'healthy-rnn-sine',
    description: 'tanh SimpleRNN(16), orthogonal recurrent kernel of gain 1, Adam 0.01 on noisy-sine next-step prediction (T = 10): MSE ~0.02.',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16 },
    task: sineSequence,
    optimizer: adam(0.01),
    steps: 150,
    quick: true,
  }),
  scenario({
    name: 'healthy-rnn-relu-unit-radius',
    description: 'The exploding ReLU SimpleRNN with its recurrent radius set to 1 (Le et al. 2015 use the identity): stable, and with Adam 0.01 it predicts a noisy sine (T = 20).',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'simple-rnn', units: 16, activation: 'relu', recurrentRadius: 1 },
    task: { name: 'noisy-sine', sequenceLength: 20 },
    optimizer: adam(0.01),
    steps: 150,
  }),
  scenario({
    name: 'healthy-lstm-sine',
    description: 'LSTM(8), Adam 0.02 on noisy-sine next-step prediction (T = 10): MSE ~0.02.',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'lstm', units: 8 },
    task: sineSequence,
    optimizer: adam(0.02),
    steps: 100,
    quick: true,
  }),
  scenario({
    name: 'healthy-gru-adding',
    description: 'GRU(16), Adam 0.01 on the adding problem at T = 10: MSE ~0.01, under the 0.04 criterion, in 150 steps.',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'gru', units: 16 },
    task: { name: 'adding', sequenceLength: 10 },
    optimizer: adam(0.01),
    steps: 150,
    samples: 1024,
  }),
  scenario({
    name: 'healthy-gru-temporal-order',
    description: 'GRU(16), Adam 0.02 on temporal order at T = 15: the gates carry the two symbols across the sequence, accuracy ≥ 90 % in 80 steps. (An LSTM here learns too, but through bursts of gradient spikes — ×18 the average norm, the loss lifted ×4 — which is not a healthy run.)',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'gru', units: 16 },
    task: { name: 'temporal-order', sequenceLength: 15 },
    optimizer: adam(0.02),
    steps: 80,
    samples: 512,
  }),
  scenario({
    name: 'healthy-gru-stacked-sine',
    description: 'Two stacked GRU(8) layers, Adam 0.01 on noisy-sine next-step prediction (T = 10).',
    expected: 'healthy',
    model: { kind: 'recurrent', cell: 'gru', units: 8, layers: 2 },
    task: sineSequence,
    optimizer: adam(0.01),
    steps: 100,
  }),
]);

/** The quick subset: every problem at least once and four healthy runs (22 s on a loaded 2-core machine, cpu). */
export const QUICK_SCENARIOS: readonly Scenario[] = Object.freeze(SCENARIOS.filter((s) => s.quick));

/** Looks a scenario up by name; the error lists the names there are. */
export function getScenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new ScenarioNotFoundError(name);
  return found;
}

export class ScenarioNotFoundError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(name: string) {
    super(`getScenario: no scenario named ${JSON.stringify(name)}; use one of ${SCENARIOS.map((s) => s.name).join(', ')}.`);
    this.name = 'ScenarioNotFoundError';
  }
}
