import type { Problem } from '@gradguard/core';
import { getScenario, SCENARIOS, type Scenario } from '@gradguard/models';
import { describe, expect, it } from 'vitest';
import { REPAIR_ORDER, combineRepairs, planRepairs } from './repairs';

const order = (names: readonly string[]) => names.map((n) => REPAIR_ORDER.indexOf(n as (typeof REPAIR_ORDER)[number]));

describe('planRepairs', () => {
  it('follows REPAIR_ORDER and only turns the knobs the scenario allows', () => {
    for (const s of SCENARIOS.filter((x) => x.expected !== 'healthy')) {
      const plans = planRepairs(s, s.expected as Problem);
      const idx = order(plans.map((p) => p.name));
      expect(idx.every((i) => i >= 0), s.name).toBe(true);
      expect([...idx].sort((a, b) => a - b), s.name).toEqual(idx); // in the documented order
      expect(plans.length, s.name).toBeGreaterThan(0); // every broken scenario has at least one repair to try
    }
    // A high-LR MLP allows clipping and the learning rate only: no model change is planned.
    const highLr = getScenario('exploding-mlp-high-lr');
    expect(planRepairs(highLr, 'exploding-gradient').map((p) => p.name)).toEqual(['clip-global-norm', 'lr-backoff', 'rollback', 'lower-learning-rate', 'lower-learning-rate']);
    // Same problem, every knob allowed: the whole order, minus repairs with nothing to change (no inputs to rescale,
    // not a recurrent model, activation does not fit exploding).
    const all: Scenario = { ...highLr, repairs: ['clipping', 'learning-rate', 'initializer', 'batch-norm', 'cell', 'activation', 'input-scale'] };
    expect(planRepairs(all, 'exploding-gradient').map((p) => p.name)).toEqual(['clip-global-norm', 'lr-backoff', 'rollback', 'lower-learning-rate', 'lower-learning-rate', 'initializer', 'batch-norm']);
    // Several problems: the repairs fitting any of them, still in order (lower-learning-rate fits dying ReLU too).
    const div = getScenario('loss-divergence-rmsprop-high-lr');
    expect(planRepairs(div, 'vanishing-gradient')).toEqual([]);
    expect(planRepairs(div, ['vanishing-gradient', 'dying-relu', 'loss-divergence']).map((p) => p.name)).toEqual(['lr-backoff', 'rollback', 'lower-learning-rate', 'lower-learning-rate']);
    // Nothing allowed: nothing planned; a healthy problem-free scenario gets nothing either.
    expect(planRepairs({ ...highLr, repairs: [] }, 'exploding-gradient')).toEqual([]);
  });

  it('each plan says what it changes, and changes exactly that', () => {
    const s = getScenario('exploding-mlp-high-lr');
    const lower = planRepairs(s, 'exploding-gradient').find((p) => p.name === 'lower-learning-rate')!;
    expect(lower.plan.change).toBe('learning rate 1 → 0.1');
    expect(lower.plan.scenario.optimizer).toEqual({ name: 'sgd', learningRate: 0.1 });
    expect({ ...lower.plan.scenario, optimizer: s.optimizer }).toEqual(s);
    // A ladder: if ×0.1 is not enough, ×0.01 is the next attempt.
    const ladder = planRepairs(s, 'exploding-gradient').filter((p) => p.name === 'lower-learning-rate');
    expect(ladder.map((p) => p.plan.change)).toEqual(['learning rate 1 → 0.1', 'learning rate 1 → 0.01']);
    expect(ladder[1]!.plan.scenario.optimizer).toEqual({ name: 'sgd', learningRate: 0.01 });
    const clip = planRepairs(s, 'exploding-gradient')[0]!;
    expect(clip.plan.scenario).toBe(s); // the model and data are unchanged: only the guard gets a transform
    expect(clip.plan.guard!().transform).toBeDefined();
    const rnn = getScenario('vanishing-rnn-long-sequence');
    expect(planRepairs(rnn, 'vanishing-gradient').map((p) => p.name)).toEqual(['initializer', 'lstm', 'gru']);
    const gru = planRepairs(rnn, 'vanishing-gradient').find((p) => p.name === 'gru')!;
    expect(gru.plan.scenario.model).toEqual({ kind: 'recurrent', cell: 'gru', units: 16, activation: 'tanh' });
    expect(gru.plan.change).toBe('SimpleRNN → GRU');
    const lstm = planRepairs(rnn, 'vanishing-gradient').find((p) => p.name === 'lstm')!;
    expect(lstm.plan.scenario.model).toMatchObject({ kind: 'recurrent', cell: 'lstm', activation: 'tanh' });
    expect(lstm.plan.scenario.model).not.toHaveProperty('recurrentRadius');
    const unnorm = getScenario('exploding-mlp-unnormalized-inputs');
    const norm = planRepairs(unnorm, 'exploding-gradient').find((p) => p.name === 'normalize-inputs')!;
    expect(norm.plan.scenario.task).toMatchObject({ inputScale: 1 });
    expect(norm.plan.change).toBe('inputs scaled ×100 → ×1');
  });

  it('combineRepairs composes the model changes and keeps the first optimizer-side repair (clipping)', () => {
    const s = getScenario('exploding-mlp-large-init');
    const c = combineRepairs(s, 'exploding-gradient')!;
    expect(c.scenario.model).toMatchObject({ kernelInitializer: { kind: 'he-uniform' }, biasInitializer: 0, batchNorm: true });
    expect(c.scenario.optimizer.learningRate).toBeCloseTo(0.001, 12);
    expect(c.change).toMatch(/^clipByGlobalNorm\(1\) on the optimizer; learning rate 0.01 → 0.001; hidden kernels he-uniform, biases 0; batch normalization/);
    expect(c.guard!().transform).toBeDefined();
    expect(combineRepairs({ ...s, repairs: ['clipping'] }, 'exploding-gradient')).toBeUndefined(); // one repair: nothing to combine
    // One repair with a ladder of plans is still one repair.
    expect(combineRepairs({ ...s, repairs: ['learning-rate'] }, 'dying-relu')).toBeUndefined();
  });
});
