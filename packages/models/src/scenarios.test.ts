import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './model-spec';
import { runScenario } from './run-scenario';
import { EXPECTED_PROBLEMS, REPAIR_KNOBS, type Scenario } from './scenario';
import { QUICK_SCENARIOS, SCENARIOS, ScenarioNotFoundError, getScenario } from './scenarios';
import { createTask } from './task-spec';
import { checkVerification, verifyScenario } from './testing/verify';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the scenario suite (data)', () => {
  it('has >= 24 uniquely named scenarios, >= 8 healthy, and every problem from more than one cause', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(24);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    const count = (p: string) => SCENARIOS.filter((s) => s.expected === p).length;
    expect(count('healthy')).toBeGreaterThanOrEqual(8);
    for (const p of EXPECTED_PROBLEMS) expect(count(p), p).toBeGreaterThanOrEqual(p === 'healthy' ? 8 : 3);
    // The causes the issue names are each present.
    const names = SCENARIOS.map((s) => s.name).join(' ');
    for (const cause of ['recurrent-gain', 'large-init', 'high-lr', 'unnormalized-inputs', 'deep-sigmoid', 'long-sequence', 'dying-relu', 'loss-divergence']) {
      expect(names).toContain(cause);
    }
    const tasks = new Set(SCENARIOS.map((s) => s.task.name));
    expect([...tasks].sort()).toEqual(['adding', 'noisy-sine', 'temporal-order', 'two-spirals']);
    expect(new Set(SCENARIOS.filter((s) => s.model.kind === 'recurrent').map((s) => s.model.kind === 'recurrent' && s.model.cell))).toEqual(new Set(['simple-rnn', 'lstm', 'gru']));
  });

  it('is plain data: a JSON round trip gives the same scenarios, and repairs only name known knobs', () => {
    expect(JSON.parse(JSON.stringify(SCENARIOS))).toEqual(SCENARIOS);
    for (const s of SCENARIOS) {
      if (s.expected === 'healthy') expect(s.repairs, s.name).toEqual([]);
      else expect(s.repairs.length, s.name).toBeGreaterThan(0);
      for (const k of s.repairs) expect(REPAIR_KNOBS).toContain(k);
      expect(s.description.length, s.name).toBeGreaterThan(30);
    }
  });

  it('every scenario builds a model whose input and output fit its task', () => {
    for (const s of SCENARIOS) {
      const task = createTask(s.task);
      const model = buildModel(s.model, task, s.seed);
      expect(model.inputs[0]!.shape.slice(1), s.name).toEqual(task.inputShape);
      expect(model.outputs[0]!.shape.at(-1), s.name).toBe(task.outputs);
      model.dispose();
    }
  });

  it('the quick subset covers every problem and at least four healthy runs', () => {
    for (const p of EXPECTED_PROBLEMS) expect(QUICK_SCENARIOS.some((s) => s.expected === p), p).toBe(true);
    expect(QUICK_SCENARIOS.filter((s) => s.expected === 'healthy').length).toBeGreaterThanOrEqual(4);
  });

  it('getScenario finds by name and names the choices on a miss', () => {
    expect(getScenario('healthy-mlp-spirals').expected).toBe('healthy');
    expect(() => getScenario('nope')).toThrow(ScenarioNotFoundError);
    expect(() => getScenario('nope')).toThrow(/no scenario named "nope"; use one of exploding-rnn-recurrent-gain,/);
  });
});

describe('the quick subset really does what it says (measured with tf.variableGrads)', () => {
  for (const scenario of QUICK_SCENARIOS) {
    it(`${scenario.name}: ${scenario.expected}`, async () => {
      const v = await verifyScenario(scenario, scenario.expected === 'healthy' ? 10 : 1);
      expect(checkVerification(scenario, v)).toEqual([]);
    });
  }
});

describe('runScenario', () => {
  const tiny: Scenario = {
    ...getScenario('healthy-lstm-sine'),
    name: 'tiny',
    model: { kind: 'recurrent', cell: 'gru', units: 4 },
    optimizer: { name: 'adam', learningRate: 0.01 },
    steps: 6,
    batchSize: 16,
    samples: 48,
    evalSamples: 32,
  };

  it('leaves no tensor behind (model, data, batches, Adam state) and is deterministic', async () => {
    const a = await expectNoLeak(() => runScenario(tiny));
    const b = await runScenario(tiny);
    expect(a.losses).toHaveLength(6);
    expect(b.losses).toEqual(a.losses);
    expect(a.evaluation).toEqual(b.evaluation);
    expect(a.finite).toBe(true);
    expect(a.model).toBeUndefined();
  });

  it('trains through the optimizer the factory returns (one minimize per step) and disposes it', async () => {
    let minimizes = 0;
    let disposed = 0;
    const r = await expectNoLeak(() =>
      runScenario(tiny, {
        optimizerFactory: (inner, { scenario, model }) => {
          expect(scenario.name).toBe('tiny');
          expect(model.layers.at(-1)!.name).toBe('head');
          const minimize = inner.minimize.bind(inner);
          const dispose = inner.dispose.bind(inner);
          return Object.assign(inner, {
            minimize: (...args: Parameters<tf.Optimizer['minimize']>) => {
              minimizes++;
              return minimize(...args);
            },
            dispose: () => {
              disposed++;
              dispose();
            },
          });
        },
      }),
    );
    expect(minimizes).toBe(6);
    expect(disposed).toBeGreaterThanOrEqual(1);
    expect(r.stepsRun).toBe(6);
  });

  it('stops when onStep says so, and at the first non-finite loss', async () => {
    const seen: number[] = [];
    const stopped = await runScenario(tiny, { onStep: ({ step }) => (seen.push(step), step === 3 ? 'stop' : undefined) });
    expect(seen).toEqual([1, 2, 3]);
    expect(stopped).toMatchObject({ stepsRun: 3, stopped: true });
    const exploding = await expectNoLeak(() => runScenario(getScenario('exploding-rnn-recurrent-gain')));
    expect(exploding.finite).toBe(false);
    expect(exploding.firstNonFiniteStep).toBe(exploding.stepsRun);
    expect(exploding.stepsRun).toBeLessThanOrEqual(3);
    expect(exploding.evaluation.passed).toBe(false);
  });

  it('keepModel hands the trained model to the caller', async () => {
    const r = await runScenario(tiny, { keepModel: true });
    expect(r.model!.layers.map((l) => l.name)).toEqual(['recurrent_1', 'head']);
    r.model!.dispose();
  });
});
