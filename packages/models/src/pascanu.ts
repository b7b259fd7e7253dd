import { checkInt, checkPositive } from './errors';
import { type RunScenarioOptions, type ScenarioResult, runScenario } from './run-scenario';
import type { OptimizerName } from './optimizer-spec';
import type { Scenario } from './scenario';

export interface PascanuExperimentOptions {
  /**
   * Sequence length T of the adding problem. Default 10: at 600 clipped SGD steps a plain RNN solves T = 10 on most
   * seeds; Pascanu et al. went to T = 50–200 with far longer training, so raise `steps` with T.
   */
  readonly sequenceLength?: number;
  /** Seeds to run (one model and data set each). Default [1, 2, 3, 4, 5]. */
  readonly seeds?: readonly number[];
  /** Optimizer steps per run. Default 600. */
  readonly steps?: number;
  /** Default 32. */
  readonly batchSize?: number;
  /** Training examples per run. Default 1024. */
  readonly samples?: number;
  /** The optimizer; Pascanu et al. used plain SGD. Default 'sgd'. */
  readonly optimizer?: OptimizerName;
  /** Learning rate. Default 0.2. */
  readonly learningRate?: number;
  /** Hidden units of the ReLU SimpleRNN. Default 32. */
  readonly units?: number;
  /** Spectral radius of the recurrent kernel (orthogonal × gain). Default 1.5: explodes without clipping. */
  readonly recurrentRadius?: number;
  /** MSE under which a run counts as a success. Default 0.04 (a quarter of the 1/6 baseline). */
  readonly threshold?: number;
  /**
   * The gradient-transform hook: wraps each run's SGD optimizer, e.g.
   * `(opt, { model }) => guard(opt, { model, transform: clipByGlobalNorm(1) })`. Absent: plain SGD.
   */
  readonly optimizerFactory?: RunScenarioOptions['optimizerFactory'];
  /** Called after each run, e.g. to drive a progress bar. */
  readonly onRun?: (result: ScenarioResult, seed: number) => void;
}

export interface PascanuExperimentResult {
  readonly runs: readonly (ScenarioResult & { readonly seed: number })[];
  /** Fraction of seeds whose held-out MSE met the threshold. */
  readonly successRate: number;
  /** Fraction of seeds whose loss stayed finite for every step. */
  readonly finiteRate: number;
}

/** The scenario one seed of the experiment trains. */
export function pascanuScenario(options: PascanuExperimentOptions, seed: number): Scenario {
  const where = 'pascanuExperiment';
  const T = checkInt(where, 'sequenceLength', options.sequenceLength ?? 10, 2);
  return {
    name: `pascanu-adding-T${T}-seed${seed}`,
    description: `ReLU SimpleRNN on the adding problem at T = ${T}, SGD, seed ${seed} (Pascanu et al. 2013).`,
    expected: 'exploding-gradient',
    model: {
      kind: 'recurrent',
      cell: 'simple-rnn',
      activation: 'relu',
      units: checkInt(where, 'units', options.units ?? 32, 1),
      recurrentRadius: checkPositive(where, 'recurrentRadius', options.recurrentRadius ?? 1.5),
    },
    task: { name: 'adding', sequenceLength: T, threshold: checkPositive(where, 'threshold', options.threshold ?? 0.04) },
    optimizer: { name: options.optimizer ?? 'sgd', learningRate: checkPositive(where, 'learningRate', options.learningRate ?? 0.2) },
    steps: checkInt(where, 'steps', options.steps ?? 600, 1),
    batchSize: checkInt(where, 'batchSize', options.batchSize ?? 32, 1),
    samples: checkInt(where, 'samples', options.samples ?? 1024, 1),
    evalSamples: 512,
    seed: checkInt(where, 'seed', seed, 0),
    quick: false,
    repairs: ['clipping'],
  };
}

/**
 * Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural networks": a plain RNN on the
 * adding problem at long T explodes under SGD, and rescaling the gradient to a maximum global norm lets it learn.
 * Runs one seeded model per seed with the caller's optimizer hook (the clipping goes there) and reports the success
 * rate over seeds. Runs sequentially; leaves no tensor behind.
 */
export async function pascanuExperiment(options: PascanuExperimentOptions = {}): Promise<PascanuExperimentResult> {
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const runs: (ScenarioResult & { seed: number })[] = [];
  for (const seed of seeds) {
    const result = await runScenario(pascanuScenario(options, seed), options.optimizerFactory ? { optimizerFactory: options.optimizerFactory } : {});
    runs.push({ ...result, seed });
    options.onRun?.(result, seed);
  }
  const rate = (f: (r: ScenarioResult) => boolean) => (runs.length === 0 ? 0 : runs.filter(f).length / runs.length);
  return { runs, successRate: rate((r) => r.evaluation.passed), finiteRate: rate((r) => r.finite) };
}
