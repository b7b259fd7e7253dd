import type { Problem } from '@gradguard/core';
import { type GuardOptions, clipByGlobalNorm, controlLearningRate } from '@gradguard/mitigations';
import type { RepairKnob, Scenario } from '@gradguard/models';

/**
 * The repairs the autopilot tries, in this order (cheapest and least invasive first, as a user would):
 * 1. `clip-global-norm` — clipByGlobalNorm(1) on the optimizer (Pascanu et al. 2013); the model is unchanged.
 * 2. `lr-backoff` — the learning rate backs off ×0.5 at each exploding/spike/divergence diagnosis and is restored
 *    after calm steps (`controlLearningRate({ backoff })`).
 * 3. `rollback` — the last finite weights are restored when the loss or gradients turn non-finite, and training goes
 *    on at a lower rate (guard's `rollback`).
 * 4. `lower-learning-rate` — the learning rate ×0.1 for the whole run, then (a second attempt, if that was not enough)
 *    ×0.01: a learning rate far too high for Adam (lr 1) is still too high at 0.1.
 * 5. `initializer` — glorot/he kernels with scale 1, recurrent kernels orthogonal with gain 1 (radius 1), zero biases.
 * 6. `batch-norm` — batch normalization after every hidden layer.
 * 7. `lstm` — a SimpleRNN becomes an LSTM (gated, Hochreiter & Schmidhuber 1997).
 * 8. `gru` — a SimpleRNN becomes a GRU (gated, Cho et al. 2014): fewer gates than an LSTM; on the suite's temporal-order
 *    runs an LSTM learns through bursts of gradient spikes where a GRU learns smoothly.
 * 9. `activation` — sigmoid/tanh hidden units become ReLU (with he init), dead ReLU units become ELU.
 * 10. `normalize-inputs` — inputs scaled back to unit range.
 * Then, if no single repair worked, every fitting repair at once (`combined`).
 */
export const REPAIR_ORDER = [
  'clip-global-norm',
  'lr-backoff',
  'rollback',
  'lower-learning-rate',
  'initializer',
  'batch-norm',
  'lstm',
  'gru',
  'activation',
  'normalize-inputs',
] as const;
export type RepairName = (typeof REPAIR_ORDER)[number] | 'combined';

/** What a repair puts on the guarded optimizer (fresh objects for every run). */
export type GuardRepair = Pick<GuardOptions, 'transform' | 'learningRate' | 'rollback'>;

/** A scenario changed by a repair, plus what (if anything) the repair puts on the guarded optimizer. */
export interface RepairPlan {
  readonly scenario: Scenario;
  readonly guard?: () => GuardRepair;
  /** The run may pass through non-finite steps and recover (rollback): judge it by its end state. */
  readonly recovers?: boolean;
  /** What changed, e.g. `learning rate 0.5 → 0.05`. */
  readonly change: string;
}

interface Repair {
  readonly name: (typeof REPAIR_ORDER)[number];
  /** The scenario knob it turns; a scenario lists the knobs a repair may turn. */
  readonly knob: RepairKnob;
  readonly fits: readonly Problem[];
  /**
   * The repaired plan, or undefined when the repair does not apply to this scenario (nothing to change). Several
   * plans are tried in turn (each an attempt) until one works.
   */
  plan(s: Scenario): RepairPlan | readonly RepairPlan[] | undefined;
}

const EXPLODING: readonly Problem[] = [
  'exploding-gradient',
  'non-finite',
  'loss-divergence',
  'gradient-spike',
  'weight-growth',
  'recurrent-instability',
];

/** A SimpleRNN swapped for a gated cell (tanh, default recurrent init); nothing to do for other models. */
function gatedCell(s: Scenario, cell: 'lstm' | 'gru', change: string): RepairPlan | undefined {
  const m = s.model;
  if (m.kind !== 'recurrent' || (m.cell ?? 'lstm') !== 'simple-rnn') return undefined;
  const { recurrentInitializer: _r, recurrentRadius: _g, ...rest } = m;
  return { scenario: { ...s, model: { ...rest, cell, activation: 'tanh' } }, change };
}

const REPAIRS: readonly Repair[] = [
  {
    name: 'clip-global-norm',
    knob: 'clipping',
    fits: EXPLODING,
    plan: (s) => ({ scenario: s, guard: () => ({ transform: clipByGlobalNorm(1) }), change: 'clipByGlobalNorm(1) on the optimizer' }),
  },
  {
    name: 'lr-backoff',
    knob: 'learning-rate',
    fits: EXPLODING,
    plan: (s) => ({
      scenario: s,
      guard: () => ({ learningRate: controlLearningRate({ backoff: {} }) }),
      change: 'learning rate backs off on exploding/spike/divergence diagnoses',
    }),
  },
  {
    name: 'rollback',
    knob: 'learning-rate',
    fits: EXPLODING,
    plan: (s) => ({
      scenario: s,
      guard: () => ({ rollback: true }),
      recovers: true,
      change: 'restore the last finite weights on divergence, continue at a lower rate',
    }),
  },
  {
    name: 'lower-learning-rate',
    knob: 'learning-rate',
    fits: [...EXPLODING, 'dying-relu'],
    plan: (s) => {
      const lr = s.optimizer.learningRate;
      return [10, 100].map((f) => ({
        scenario: { ...s, optimizer: { ...s.optimizer, learningRate: lr / f } },
        change: `learning rate ${lr} → ${lr / f}`,
      }));
    },
  },
  {
    name: 'initializer',
    knob: 'initializer',
    fits: [...EXPLODING, 'vanishing-gradient', 'dying-relu'],
    plan: (s) => {
      const m = s.model;
      if (m.kind === 'recurrent') {
        const { recurrentInitializer: _r, ...rest } = m;
        const next = { ...rest, recurrentRadius: 1, kernelInitializer: { kind: 'glorot-uniform' as const } };
        if (JSON.stringify(next) === JSON.stringify(m)) return undefined;
        return { scenario: { ...s, model: next }, change: 'recurrent kernel orthogonal gain 1, input kernel glorot-uniform' };
      }
      const reluLike = (m.activation ?? 'relu') === 'relu' || m.activation === 'elu' || m.activation === 'selu';
      const kernelInitializer = { kind: reluLike ? ('he-uniform' as const) : ('glorot-uniform' as const) };
      const next = { ...m, kernelInitializer, biasInitializer: 0 };
      if (JSON.stringify(next) === JSON.stringify(m)) return undefined;
      return { scenario: { ...s, model: next }, change: `hidden kernels ${kernelInitializer.kind}, biases 0` };
    },
  },
  {
    name: 'batch-norm',
    knob: 'batch-norm',
    fits: [...EXPLODING, 'vanishing-gradient', 'dying-relu'],
    plan: (s) => (s.model.batchNorm ? undefined : { scenario: { ...s, model: { ...s.model, batchNorm: true } }, change: 'batch normalization after every hidden layer' }),
  },
  {
    name: 'lstm',
    knob: 'cell',
    fits: [...EXPLODING, 'vanishing-gradient'],
    plan: (s) => gatedCell(s, 'lstm', 'SimpleRNN → LSTM'),
  },
  {
    name: 'gru',
    knob: 'cell',
    fits: [...EXPLODING, 'vanishing-gradient'],
    plan: (s) => gatedCell(s, 'gru', 'SimpleRNN → GRU'),
  },
  {
    name: 'activation',
    knob: 'activation',
    fits: ['vanishing-gradient', 'dying-relu'],
    plan: (s) => {
      const m = s.model;
      const a = m.activation ?? (m.kind === 'mlp' ? 'relu' : 'tanh');
      if (a === 'sigmoid' || a === 'tanh') {
        const next = { ...m, activation: 'relu' as const, ...(m.kind === 'mlp' ? { kernelInitializer: { kind: 'he-uniform' as const } } : {}) };
        return { scenario: { ...s, model: next }, change: `${a} → relu` };
      }
      if (a === 'relu') return { scenario: { ...s, model: { ...m, activation: 'elu' } }, change: 'relu → elu' };
      return undefined;
    },
  },
  {
    name: 'normalize-inputs',
    knob: 'input-scale',
    fits: EXPLODING,
    plan: (s) => {
      const t = s.task as { inputScale?: number };
      if (t.inputScale === undefined || t.inputScale === 1) return undefined;
      return { scenario: { ...s, task: { ...s.task, inputScale: 1 } as Scenario['task'] }, change: `inputs scaled ×${t.inputScale} → ×1` };
    },
  },
];

function plansOf(r: Repair, s: Scenario): readonly RepairPlan[] {
  const p = r.plan(s);
  return p === undefined ? [] : Array.isArray(p) ? p : [p as RepairPlan];
}

/**
 * The repairs that fit the problem (or any of the problems: a run usually shows several, e.g. a too-high learning
 * rate both kills ReLUs and sends the loss up) and that the scenario allows, in the documented order, with their plans.
 */
export function planRepairs(scenario: Scenario, problem: Problem | readonly Problem[]): { name: RepairName; plan: RepairPlan }[] {
  const problems: readonly Problem[] = typeof problem === 'string' ? [problem] : problem;
  const out: { name: RepairName; plan: RepairPlan }[] = [];
  for (const r of REPAIRS) {
    if (!r.fits.some((p) => problems.includes(p)) || !scenario.repairs.includes(r.knob)) continue;
    for (const plan of plansOf(r, scenario)) out.push({ name: r.name, plan });
  }
  return out;
}

/** Every fitting repair applied together (model changes compose; the clip transform is kept). */
export function combineRepairs(scenario: Scenario, problem: Problem | readonly Problem[]): RepairPlan | undefined {
  const problems: readonly Problem[] = typeof problem === 'string' ? [problem] : problem;
  if (new Set(planRepairs(scenario, problems).map((p) => p.name)).size < 2) return undefined;
  let current = scenario;
  let guardRepair: RepairPlan['guard'];
  const changes: string[] = [];
  for (const r of REPAIRS) {
    if (!r.fits.some((p) => problems.includes(p)) || !scenario.repairs.includes(r.knob)) continue;
    // Of a ladder of plans, the first (the mildest change) composes.
    const p = plansOf(r, current)[0];
    if (!p) continue;
    // Model and data changes compose; of the optimizer-side repairs, clipping (the first) is kept.
    if (p.guard && guardRepair) continue;
    current = p.scenario;
    guardRepair ??= p.guard;
    changes.push(p.change);
  }
  return { scenario: current, ...(guardRepair ? { guard: guardRepair } : {}), change: changes.join('; ') };
}
