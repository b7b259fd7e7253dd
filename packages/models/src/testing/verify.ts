// Test-only: runs a scenario and measures, directly with tfjs, whether it shows the problem it names.
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from '../model-spec';
import { runScenario, type ScenarioResult } from '../run-scenario';
import type { Scenario } from '../scenario';
import { createTask } from '../task-spec';
import { type GradientProbe, deadUnitFraction, probeGradients, probeInputGradients } from './probe';

export interface Verification {
  readonly result: ScenarioResult;
  /** Gradient norms of the freshly built model. */
  readonly initial: GradientProbe;
  /** Largest finite global gradient norm measured during training (probed after every `probeEvery` steps). */
  readonly maxNorm: number;
  /** Smallest ratio ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖ at init (first trainable layer over the head). */
  readonly depthRatio: number;
  /** ‖∂L/∂x_0‖ / ‖∂L/∂x_{T-1}‖ at init for sequence tasks, else NaN. */
  readonly timeRatio: number;
  /** Fraction of dead hidden units after training (MLPs), else NaN. */
  readonly deadFraction: number;
}

export async function verifyScenario(scenario: Scenario, probeEvery = 1): Promise<Verification> {
  const task = createTask(scenario.task);
  const probeData = task.generate(Math.min(64, scenario.samples), scenario.seed);
  const fresh = buildModel(scenario.model, task, scenario.seed);
  const initial = await probeGradients(fresh, task, probeData);
  const timeRatio =
    task.inputShape.length === 2 ? await probeInputGradients(fresh, task, probeData).then((r) => r.first / r.last) : Number.NaN;
  fresh.dispose();
  let maxNorm = Number.isFinite(initial.global) ? initial.global : 0;
  const result = await runScenario(scenario, {
    keepModel: true,
    onStep: async ({ step, model }) => {
      if (step % probeEvery !== 0) return;
      const p = await probeGradients(model, task, probeData);
      if (Number.isFinite(p.global)) maxNorm = Math.max(maxNorm, p.global);
    },
  });
  const model = result.model!;
  const deadFraction = scenario.model.kind === 'mlp' ? await deadUnitFraction(model, probeData.xs) : Number.NaN;
  model.dispose();
  tf.dispose([probeData.xs, probeData.ys]);
  const first = initial.layers[0]!.norm;
  const last = initial.layers.at(-1)!.norm;
  return { result, initial, maxNorm, depthRatio: first / last, timeRatio, deadFraction };
}

/**
 * What each expected problem must look like, measured; returns the list of failed checks (empty when it holds).
 * Thresholds: an exploding run reaches a gradient norm ≥ 1e3 and a non-finite loss; a vanishing run has its first
 * layer's gradient ≤ 1e-3 of the head's at init (MLP and stacked RNN) or an input gradient from t = 0 ≤ 1e-6 of the
 * last step's; a dying-ReLU run ends with ≥ 50 % of hidden units dead; a diverging run ends with a loss ≥ 3× its
 * first; every broken run misses its task criterion. A healthy run stays finite with norms < 1e3 and meets it.
 */
export function checkVerification(scenario: Scenario, v: Verification): string[] {
  const failures: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  const { result } = v;
  const losses = result.losses;
  if (scenario.expected === 'healthy') {
    need(result.finite, 'loss stays finite');
    need(v.maxNorm < 1e3, `gradient norm stays < 1e3 (max ${v.maxNorm})`);
    need(result.evaluation.passed, `meets the task criterion (${result.evaluation.metric} ${result.evaluation.value})`);
    return failures;
  }
  need(!result.evaluation.passed, `misses the task criterion (${result.evaluation.metric} ${result.evaluation.value})`);
  switch (scenario.expected) {
    case 'exploding-gradient':
      need(!result.finite, 'loss turns non-finite');
      need(v.maxNorm >= 1e3, `gradient norm reaches 1e3 (max ${v.maxNorm})`);
      break;
    case 'vanishing-gradient':
      need(v.depthRatio <= 1e-3 || v.timeRatio <= 1e-6, `first/last gradient ratio ≤ 1e-3 (${v.depthRatio}) or t0/tT ≤ 1e-6 (${v.timeRatio})`);
      need(result.finite, 'loss stays finite');
      break;
    case 'dying-relu':
      need(v.deadFraction >= 0.5, `≥ 50 % dead units (${v.deadFraction})`);
      break;
    case 'loss-divergence':
      need(losses.at(-1)! >= 3 * losses[0]! || !Number.isFinite(losses.at(-1)!), `final loss ≥ 3× first (${losses[0]} → ${losses.at(-1)})`);
      break;
  }
  return failures;
}
