import * as tf from '@tensorflow/tfjs';
import type { Diagnosis, StepStatistics } from '@gradguard/core';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { type RunRecorderLike, watchTraining } from './watch-training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A recorder as @gradguard/reporter's, reduced to what it receives, in order. */
function recording() {
  const events: string[] = [];
  const ends: { status: string; reason?: string; finalLoss?: number | null }[] = [];
  const recorder: RunRecorderLike = {
    watch(source) {
      const offStep = source.onStep((s: StepStatistics) => events.push(`step ${s.step}`));
      const offDiag = source.monitor?.subscribe((d: Diagnosis) => events.push(`diagnosis ${d.step} ${d.problem}`));
      return () => {
        offStep();
        offDiag?.();
      };
    },
    async end(status, details = {}) {
      ends.push({ status, ...details });
    },
  };
  return { recorder, events, ends };
}

describe('watchTraining: guard + monitor + recorder + stop policy, wired once', () => {
  it('on the exploding RNN: records each step before its diagnoses, stops at the first NaN and ends the log as stopped', async () => {
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed: 1 });
    const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed: 1 });
    const { recorder, events, ends } = recording();
    const run = watchTraining(tf.train.sgd(0.1), { model, recorder, stopOnNonFinite: true });
    model.compile({ optimizer: run.optimizer, loss: 'meanSquaredError' });
    await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false, callbacks: run.fitCallbacks(model) });
    await run.end();
    // NaN at step 1 (ENVIRONMENT.md: gain 1.5, SGD 0.1, T = 50): the run stops there instead of 20 steps.
    expect(run.firstNonFiniteStep).toBe(1);
    expect(run.optimizer.step).toBe(2);
    expect(run.stopReason).toBe('loss and gradients non-finite since step 1: the weights are lost');
    expect(ends).toEqual([{ status: 'stopped', reason: 'loss and gradients non-finite since step 1: the weights are lost', finalLoss: Number.NaN }]);
    expect(events[0]).toBe('step 0');
    expect(events.indexOf('step 0')).toBeLessThan(events.indexOf('diagnosis 0 exploding-gradient'));
    expect(events.indexOf('step 1')).toBeLessThan(events.findIndex((e) => e.startsWith('diagnosis 1 ')));
    expect(run.monitor.diagnoses.some((d) => d.problem === 'non-finite' && d.step === 1)).toBe(true);
    await run.end(); // ends once
    expect(ends).toHaveLength(1);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('clipped, the same model trains to the end and the log ends completed with the last loss; no tensor leaks', async () => {
    const model = buildSimpleRnn({ sequenceLength: 50, recurrentGain: 1.5, seed: 1 });
    const { xs, ys } = addingProblem({ sequenceLength: 50, samples: 320, seed: 1 });
    const { recorder, ends } = recording();
    const run = watchTraining('sgd', { model, recorder, stopOnNonFinite: true, transform: clipByGlobalNorm(1) });
    model.compile({ optimizer: run.optimizer, loss: 'meanSquaredError' });
    await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false, callbacks: run.fitCallbacks(model) }); // slots
    await expectNoLeak(async () => {
      await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false, callbacks: run.fitCallbacks(model, { maxSteps: 25 }) });
      await run.flush();
    });
    await run.end();
    expect(run.firstNonFiniteStep).toBeNull();
    expect(run.stopReason).toBeUndefined();
    expect(run.optimizer.step).toBe(25); // 10 steps, then stopped at maxSteps 25 in the next fit
    expect(ends).toHaveLength(1);
    expect(ends[0]!.status).toBe('completed');
    expect(Number.isFinite(ends[0]!.finalLoss)).toBe(true);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
