import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { formatNumber as fmt } from '@gradguard/core';
import { clipByGlobalNorm } from '@gradguard/mitigations';
import { ADDING_BASELINE_MSE, addingProblem, buildSimpleRnn } from '@gradguard/models';
import { table } from '@gradguard/reporter';
import type { BackendReport } from '../backend';
import { type TrainRunResult, evaluateMse, trainRun } from '../run';

export interface DemoOptions {
  readonly out: string;
  readonly seed: number;
  readonly epochs: number;
  readonly json: boolean;
  readonly quiet: boolean;
}

export const DEMO_SETUP = {
  model: 'SimpleRNN(32, relu), orthogonal recurrent kernel with gain 1.5',
  task: 'adding problem, T = 50',
  sequenceLength: 50,
  units: 32,
  recurrentGain: 1.5,
  samples: 640,
  testSamples: 256,
  batchSize: 32,
  optimizer: 'sgd',
  learningRate: 0.1,
  maxNorm: 1,
} as const;

/** The setup as a run-log config, minus keys that do not apply to this run (an unguarded run has no clip bound). */
function setupWithout(setup: typeof DEMO_SETUP, omit: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(setup).filter(([k]) => !omit.includes(k)));
}

/**
 * The story in one command: the same seeded SimpleRNN trained twice on the same data — unguarded, where the
 * gradients explode and the loss turns NaN, and guarded by clipByGlobalNorm(1), which keeps it finite and learning.
 */
export async function demo(o: DemoOptions, backend: BackendReport): Promise<number> {
  mkdirSync(o.out, { recursive: true });
  const s = DEMO_SETUP;
  const train = addingProblem({ sequenceLength: s.sequenceLength, samples: s.samples, seed: o.seed });
  const test = addingProblem({ sequenceLength: s.sequenceLength, samples: s.testSamples, seed: o.seed + 1000 });
  if (!o.quiet && !o.json) {
    process.stderr.write(
      `gradguard demo — ${s.model}, ${s.task}, SGD lr ${s.learningRate}, batch ${s.batchSize}, seed ${o.seed}\n${backend.summary}\n\n`,
    );
  }
  const runs: Record<'unguarded' | 'guarded', TrainRunResult & { testMse: number; log: string }> = {} as never;
  for (const label of ['unguarded', 'guarded'] as const) {
    const model = buildSimpleRnn({ sequenceLength: s.sequenceLength, units: s.units, recurrentGain: s.recurrentGain, seed: o.seed });
    const log = join(o.out, `demo-${label}.jsonl`);
    const result = await trainRun({
      label,
      name: `demo-${label}`,
      model,
      xs: train.xs,
      ys: train.ys,
      optimizer: tf.train.sgd(s.learningRate),
      ...(label === 'guarded' ? { transform: clipByGlobalNorm(s.maxNorm) } : {}),
      loss: 'meanSquaredError',
      epochs: o.epochs,
      batchSize: s.batchSize,
      backend: backend.name,
      config: {
        ...setupWithout(s, label === 'guarded' ? [] : ['maxNorm']),
        seed: o.seed,
        epochs: o.epochs,
        transform: label === 'guarded' ? `clipByGlobalNorm(${s.maxNorm})` : 'none',
      },
      logPath: log,
      console: !o.quiet && !o.json,
      stopOnNonFinite: true,
    });
    const testMse = await evaluateMse(model, test.xs, test.ys);
    runs[label] = { ...result, testMse, log };
    model.dispose();
    if (!o.quiet && !o.json) process.stderr.write('\n');
  }
  tf.dispose([train.xs, train.ys, test.xs, test.ys]);

  const u = runs.unguarded;
  const g = runs.guarded;
  if (o.json) {
    const pick = (r: typeof u) => ({
      steps: r.steps,
      stoppedEarly: r.stoppedEarly,
      firstNonFiniteStep: r.firstNonFiniteStep,
      finalLoss: r.finalLoss,
      testMse: r.testMse,
      maxPreClipNorm: r.maxPreClipNorm,
      clippedSteps: r.clippedSteps,
      weightsFinite: r.weightsFinite,
      diagnoses: r.diagnoses.map((d) => ({ step: d.step, problem: d.problem, severity: d.severity, phase: d.phase, layer: d.layer ?? null })),
      log: r.log,
      seconds: r.seconds,
    });
    process.stdout.write(`${JSON.stringify({ backend: backend.name, setup: s, baselineMse: ADDING_BASELINE_MSE, unguarded: pick(u), guarded: pick(g) }, null, 2)}\n`);
    return 0;
  }
  const count = (r: typeof u) => {
    const c = r.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity === 'critical').length;
    const w = r.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity === 'warning').length;
    return `${c} critical, ${w} warning`;
  };
  const rows: (string | number)[][] = [
    ['steps trained', `${u.steps}${u.stoppedEarly ? ' (stopped)' : ''}`, `${g.steps}${g.stoppedEarly ? ' (stopped)' : ''}`],
    ['first non-finite step', u.firstNonFiniteStep ?? '—', g.firstNonFiniteStep ?? '—'],
    ['largest pre-clip ‖g‖', fmt(u.maxPreClipNorm), fmt(g.maxPreClipNorm)],
    ['steps clipped', '—', `${g.clippedSteps} of ${g.steps}`],
    ['final training loss', fmt(u.finalLoss), fmt(g.finalLoss)],
    [`test MSE (baseline ${fmt(ADDING_BASELINE_MSE)})`, fmt(u.testMse), fmt(g.testMse)],
    ['weights finite', u.weightsFinite ? 'yes' : 'no', g.weightsFinite ? 'yes' : 'no'],
    ['diagnoses', count(u), count(g)],
    ['run log', u.log, g.log],
  ];
  const out: string[] = [];
  out.push(table(['', 'unguarded', `guarded: clipByGlobalNorm(${s.maxNorm})`], rows));
  const cause = u.diagnoses.find((d) => d.problem === 'exploding-gradient' || d.problem === 'non-finite');
  if (cause) out.push('', `Diagnosis (unguarded): ${cause.message}`, `Fix: ${cause.advice[0]?.detail ?? ''}`);
  out.push('', `Next: gradguard diagnose ${u.log}   ·   gradguard compare ${u.log} ${g.log}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
