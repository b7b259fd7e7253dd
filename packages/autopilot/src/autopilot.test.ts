import * as tf from '@tensorflow/tfjs';
import { getScenario } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Attempt, autopilot, observeScenario } from './autopilot';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('observeScenario', () => {
  it('passes statsEvery to the guard (diagnoses only on measured steps) and calls onStep after every step', async () => {
    const steps: number[] = [];
    const o = await expectNoLeak(() =>
      observeScenario(getScenario('exploding-mlp-large-init'), { statsEvery: 3, onStep: ({ step }) => void steps.push(step) }),
    );
    expect(steps).toEqual(Array.from({ length: o.result.stepsRun }, (_, i) => i + 1));
    expect(o.diagnoses.length).toBeGreaterThan(0);
    for (const d of o.diagnoses) expect(d.step % 3).toBe(0);
    expect(o.problems).toContain('exploding-gradient');
  });
});

describe('autopilot on real scenarios', () => {
  it('detects a too-high learning rate, tries the repairs in order, and verifies the one that works', async () => {
    const seen: Attempt[] = [];
    const r = await expectNoLeak(() => autopilot(getScenario('exploding-mlp-high-lr'), { onAttempt: (a) => seen.push(a) }));
    expect(r.detected).toContain('exploding-gradient');
    expect(r.detected).toContain('non-finite');
    expect(r.firstDetectionStep).toBeLessThan(15); // before the loss turns Infinity (step ~15)
    expect(r.criterionMet).toBe(false);
    // The attempts follow REPAIR_ORDER up to the first that passed verification, each recorded (and reported).
    const names = r.attempts.map((a) => a.repair);
    expect(names).toEqual(['clip-global-norm', 'lr-backoff', 'rollback', 'lower-learning-rate'].slice(0, names.length));
    expect(seen).toEqual(r.attempts);
    const last = r.attempts.at(-1)!;
    expect(last.success).toBe(true);
    expect(r.repairedBy).toBe(last.repair);
    expect(last).toMatchObject({ finite: true, criterionMet: true, remaining: [] });
    expect(last.metric).toBeLessThan(0.05); // the task's MSE criterion, on held-out data
    for (const a of r.attempts.slice(0, -1)) expect(a.success).toBe(false);
    expect(r.attempts.every((a) => a.change.length > 10 && a.durationMs > 0)).toBe(true);
  });

  it('a healthy run gets no attempts', async () => {
    const r = await autopilot(getScenario('healthy-mlp-sine'));
    expect(r).toMatchObject({ detected: [], firstDetectionStep: null, target: null, criterionMet: true, attempts: [], repairedBy: null });
    expect(r.metric).toBeLessThan(0.05);
  });

  it('a repair that gives up (rollback declaring the run unrecoverable) is recorded as a failed attempt, and the next one is tried', async () => {
    const r = await autopilot(getScenario('exploding-mlp-large-init'));
    const rollback = r.attempts.find((a) => a.repair === 'rollback')!;
    expect(rollback).toMatchObject({ success: false, finite: false, criterionMet: false, remaining: [r.target] });
    expect(rollback.metric).toBeNaN();
    expect(rollback.error).toMatch(/^rollback: at step \d+ .* again; the last good weights were restored 3 times/);
    expect(r.attempts.indexOf(rollback)).toBeLessThan(r.attempts.length - 1); // the order went on after it
    expect(r.repairedBy).toBe('initializer');
  });

  it('observeScenario measures recurrent spectra for recurrent models and reports a vanishing-through-time SimpleRNN', async () => {
    const o = await observeScenario(getScenario('vanishing-rnn-adding-long-sequence'));
    expect(o.problems).toContain('vanishing-gradient');
    const d = o.diagnoses.find((x) => x.problem === 'vanishing-gradient')!;
    expect(d.detector).toBe('detectRecurrentInstability');
    expect(d.step).toBe(0);
    expect(d.evidence).toMatchObject({ className: 'SimpleRNN', timeSteps: 25, maxSingularValue: expect.closeTo(0.5, 3) });
  });
});
