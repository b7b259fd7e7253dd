import type { Diagnosis } from '@gradguard/core';
import * as tf from '@tensorflow/tfjs';
import { type CaseWithTruth, getCase } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CaseJobResult, applicableRepairs, casebookJobs, chooseCaseRepair, namesFailure, rightProblems, runCaseJob, scoreCasebook, statedCause, symptomStep } from './casebook';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const truth = (seed: number, outcome: 'learns' | 'nan' | 'stalls' | 'diverges', divergenceStep: number | null = null, nanStep: number | null = null) => ({
  seed,
  outcome,
  metric: 0,
  nanStep,
  divergenceStep,
});

/** Two hand-made cases: a broken one (NaN on seeds 1–2, learns on seed 3) and a healthy one (learns on all 3). */
const base = getCase('mlm-regression-exploding')!;
const broken: CaseWithTruth = { ...base, name: 'broken', truth: [truth(1, 'nan', 4, 7), truth(2, 'nan', 3, 7), truth(3, 'learns')] };
const healthy: CaseWithTruth = { ...getCase('mlm-regression-scaled')!, name: 'healthy', truth: [truth(1, 'learns'), truth(2, 'learns'), truth(3, 'learns')] };

const row = (r: Partial<CaseJobResult> & Pick<CaseJobResult, 'case' | 'seed' | 'arm'>): CaseJobResult => ({
  problems: [],
  firstSeriousStep: null,
  firstRightStep: null,
  repair: null,
  outcome: 'learns',
  metric: 0.9,
  passed: true,
  durationMs: 1,
  ...r,
});

describe('scoreCasebook on a hand-made result table', () => {
  const results: CaseJobResult[] = [
    // Seed 1: right diagnosis at step 6, symptom at 4: detected (≤ 4 + 5), delay +2; autopilot repaired, random did not.
    row({ case: 'broken', seed: 1, arm: 'autopilot', problems: ['exploding-gradient'], firstSeriousStep: 6, firstRightStep: 6, repair: 'clipnorm-1', passed: true }),
    row({ case: 'broken', seed: 1, arm: 'random-fix', repair: 'batch-norm', passed: false, outcome: 'nan' }),
    // Seed 2: the right diagnosis comes at step 9, symptom at 3: too late (> 3 + 5); random fix repaired it.
    row({ case: 'broken', seed: 2, arm: 'autopilot', problems: ['gradient-spike'], firstSeriousStep: 9, firstRightStep: 9, repair: 'clipnorm-1', passed: false }),
    row({ case: 'broken', seed: 2, arm: 'random-fix', repair: 'normalize-data', passed: true }),
    // Seed 3 learned in the ground truth: not a broken run, not scored.
    row({ case: 'broken', seed: 3, arm: 'autopilot' }),
    row({ case: 'broken', seed: 3, arm: 'random-fix', repair: 'adam', passed: true }),
    // Healthy: a warning on seed 2 is a false alarm.
    row({ case: 'healthy', seed: 1, arm: 'watch' }),
    row({ case: 'healthy', seed: 2, arm: 'watch', problems: ['gradient-spike'], firstSeriousStep: 40 }),
    row({ case: 'healthy', seed: 3, arm: 'watch' }),
  ];

  it('counts detection within the window, delay, false alarms and both repair arms per broken seed', () => {
    const s = scoreCasebook(results, [broken, healthy]);
    expect(s.rows).toHaveLength(2);
    expect(s.rows[0]).toMatchObject({ case: 'broken', broken: 2, detected: 1, meanDelay: 2, autopilotRepaired: 1, randomRepaired: 1, autopilotRepairs: ['clipnorm-1', 'clipnorm-1'] });
    expect(s.rows[1]).toMatchObject({ case: 'healthy', healthy: 3, falseAlarms: 1 });
    expect(s).toMatchObject({ brokenRuns: 2, healthyRuns: 3, detectionRate: 0.5, falseAlarmRate: 1 / 3, meanDelay: 2, autopilotRepairRate: 0.5, randomRepairRate: 0.5 });
    // A wider window counts seed 2's diagnosis (9 ≤ 3 + 6) too: mean delay (2 + 6) / 2.
    expect(scoreCasebook(results, [broken, healthy], 6)).toMatchObject({ detectionRate: 1, meanDelay: 4 });
  });

  it('scores the random-fix baseline as its expectation when every applicable repair was run', () => {
    const options = (seed: number, passed: boolean[]) =>
      passed.map((p, option) => row({ case: 'broken', seed, arm: 'random-fix', repair: `repair-${option}`, passed: p }));
    const s = scoreCasebook(
      [
        row({ case: 'broken', seed: 1, arm: 'autopilot', problems: ['non-finite'], firstRightStep: 5, repair: 'clipnorm-1', passed: true }),
        row({ case: 'broken', seed: 2, arm: 'autopilot', problems: ['non-finite'], firstRightStep: 4, repair: 'clipnorm-1', passed: false }),
        // Seed 1: 1 of 4 repairs works (expected 0.25); seed 2: 3 of 4 (0.75).
        ...options(1, [false, true, false, false]),
        ...options(2, [true, true, false, true]),
      ],
      [broken],
    );
    expect(s.rows[0]).toMatchObject({ broken: 2, autopilotRepaired: 1, randomRepaired: 1 });
    expect(s).toMatchObject({ autopilotRepairRate: 0.5, randomRepairRate: 0.5 });
  });

  it('names the right problems per family, with non-finite right whenever the seed turned NaN', () => {
    expect(rightProblems('vanishing', { nanStep: null })).not.toContain('non-finite');
    expect(rightProblems('vanishing', { nanStep: 1 })).toContain('non-finite');
    expect(rightProblems('vanishing', { nanStep: null })).toEqual(expect.arrayContaining(['vanishing-gradient', 'saturation', 'dying-relu']));
    expect(rightProblems('healthy', { nanStep: 3 })).toEqual([]);
    expect(symptomStep({ divergenceStep: 4 })).toBe(4);
    expect(symptomStep({ divergenceStep: null })).toBe(1);
  });

  it('a diagnosis that states a learning rate too high names the exploding family, whatever its symptom', () => {
    const saturatedByRate = { problem: 'saturation' as const, evidence: { rootCause: 'learning-rate' } };
    const saturated = { problem: 'saturation' as const, evidence: {} };
    expect(namesFailure('exploding', { nanStep: null }, saturatedByRate)).toBe(true);
    expect(namesFailure('exploding', { nanStep: null }, saturated)).toBe(false);
    expect(namesFailure('vanishing', { nanStep: null }, saturated)).toBe(true);
    expect(namesFailure('healthy', { nanStep: null }, saturatedByRate)).toBe(false);
    expect(namesFailure('exploding', { nanStep: null }, { problem: 'loss-divergence', evidence: {} })).toBe(true);
  });
});

describe('casebook jobs', () => {
  it('are plain data: watch for healthy cases, autopilot and random-fix (and optionally each accepted fix) for broken ones', () => {
    const jobs = casebookJobs({ cases: ['mlm-regression-exploding', 'tfjs-iris'], seeds: [1, 2, 3], acceptedFixes: true });
    expect(JSON.parse(JSON.stringify(jobs))).toEqual(jobs);
    expect(jobs.filter((j) => j.case === 'tfjs-iris').map((j) => j.arm)).toEqual(['watch', 'watch', 'watch']);
    const broken = jobs.filter((j) => j.case === 'mlm-regression-exploding');
    expect(broken.filter((j) => j.arm === 'autopilot')).toHaveLength(3);
    // The random-fix baseline runs every applicable repair (5 here) per seed: its rate is the draw's expectation.
    expect(broken.filter((j) => j.arm === 'random-fix').map((j) => ('option' in j ? j.option : -1))).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(broken.filter((j) => j.arm === 'accepted-fix')).toHaveLength(3 * getCase('mlm-regression-exploding')!.fixes.length);
  });

  it('applicable repairs change the case; the recurrent-only and softmax-only repairs stay off an MLP regression', () => {
    const names = applicableRepairs(getCase('mlm-regression-exploding')!).map((a) => a.repair.name);
    // relu-he would change nothing: its hidden layer already is ReLU with he_uniform.
    expect(names).toEqual(['normalize-data', 'clipnorm-1', 'lower-learning-rate', 'adam', 'batch-norm']);
    expect(applicableRepairs(getCase('mlm-circles-deep-tanh')!).map((a) => a.repair.name)).toContain('relu-he');
  });

  it('the autopilot repairs a mismatched output activation first, and lowers an adaptive optimizer’s rate instead of clipping', () => {
    const pick = (name: string, family: 'exploding' | 'vanishing') => chooseCaseRepair(getCase(name)!, family)?.repair.name;
    // A ReLU output under categorical cross-entropy: softmax first, whichever family the symptom named.
    expect(pick('autotrainer-blobs-relu-output', 'vanishing')).toBe('softmax-output');
    expect(pick('autotrainer-blobs-relu-output', 'exploding')).toBe('softmax-output');
    // Plain SGD on blobs (nothing to normalize): clipping is the first fitting repair.
    expect(pick('mlm-blobs-lr-1', 'exploding')).toBe('clipnorm-1');
    // Adam at 1 and RMSProp at 1: clipping cannot bound an adaptive step, so the rate is lowered (×0.1).
    const adam = chooseCaseRepair(getCase('tfjs-addition-rnn-adam-1')!, 'exploding')!;
    expect(adam.repair.name).toBe('lower-learning-rate');
    expect(adam.changed.optimizer).toMatchObject({ name: 'adam', learningRate: 0.1 });
    expect(pick('tfjs-lstm-text-generation-rmsprop-1', 'exploding')).toBe('lower-learning-rate');
    // Both stay in the random-fix baseline's list: the rule orders the autopilot's choice, not the candidates.
    expect(applicableRepairs(getCase('tfjs-addition-rnn-adam-1')!).map((a) => a.repair.name)).toContain('clipnorm-1');
    // Data that can be scaled is scaled first (the regression's unscaled targets), as the sources' answers do.
    expect(pick('mlm-regression-exploding', 'exploding')).toBe('normalize-data');
  });

  it('a root cause a diagnosis states comes first: the learning rate, the initialization; symptoms leave the family order', () => {
    const diag = (o: Partial<Diagnosis>): Diagnosis => ({ problem: 'loss-divergence', severity: 'critical', phase: 'onset', step: 1, detector: 'detectLossDivergence', message: '', evidence: {}, advice: [], ...o });
    const rate = diag({ evidence: { rootCause: 'learning-rate' } });
    const init = diag({ problem: 'vanishing-gradient', severity: 'warning', detector: 'detectInitialization' });
    expect(statedCause([rate])).toBe('lower-learning-rate');
    expect(statedCause([init, rate])).toBe('relu-he');
    // Not serious (info, or a recovery), or a symptom rule: no cause stated.
    expect(statedCause([{ ...rate, severity: 'info' }, { ...init, phase: 'recovery' }, diag({ problem: 'exploding-gradient', detector: 'detectNormAboveBound' })])).toBeUndefined();
    // SGD at 1 on blobs: clipping by the family order, the rate when the diagnosis named it.
    expect(chooseCaseRepair(getCase('mlm-blobs-lr-1')!, 'exploding')?.repair.name).toBe('clipnorm-1');
    expect(chooseCaseRepair(getCase('mlm-blobs-lr-1')!, 'exploding', 'lower-learning-rate')?.repair.name).toBe('lower-learning-rate');
    // A stated cause that does not apply (relu-he on a model already ReLU/he) or does not fit the family falls back.
    expect(chooseCaseRepair(getCase('mlm-regression-exploding')!, 'exploding', 'relu-he')?.repair.name).toBe('normalize-data');
    // Unscaled inputs are scaled before the rate is lowered, even when the rate was named (the rate alone repaired none).
    expect(chooseCaseRepair(getCase('mlm-regression-exploding')!, 'exploding', 'lower-learning-rate')?.repair.name).toBe('normalize-data');
    expect(chooseCaseRepair(getCase('tfjs-boston-unnormalized')!, 'exploding', 'lower-learning-rate')?.repair.name).toBe('normalize-data');
    expect(chooseCaseRepair(getCase('mlm-circles-deep-tanh')!, 'vanishing', 'relu-he')?.repair.name).toBe('relu-he');
  });

  it('runs a broken case guarded: the NaN run is diagnosed, an accepted fix (clipnorm 1 through guard) repairs it', async () => {
    const before = tf.memory().numTensors;
    const watch = await runCaseJob({ case: 'mlm-regression-exploding', seed: 1, arm: 'watch' });
    expect(watch.outcome).toBe('nan');
    expect(watch.problems.length).toBeGreaterThan(0);
    expect(watch.firstRightStep).not.toBeNull();
    const fixed = await runCaseJob({ case: 'mlm-regression-exploding', seed: 1, arm: 'accepted-fix', fix: 0 });
    expect(fixed).toMatchObject({ repair: 'clipnorm-1', outcome: 'learns', passed: true });
    const random = await runCaseJob({ case: 'mlm-regression-exploding', seed: 1, arm: 'random-fix', draw: 1 });
    expect(applicableRepairs(getCase('mlm-regression-exploding')!).map((a) => a.repair.name)).toContain(random.repair);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('blobs at SGD 1, seed 2 (never diverges, stalls): the whole gradient vanishes at step 5 at a loss of 5.0 — saturation stated as the rate, lowered, repaired', async () => {
    const before = tf.memory().numTensors;
    const job = await runCaseJob({ case: 'mlm-blobs-lr-1', seed: 2, arm: 'autopilot' });
    // Symptom step 1 (no divergence: the failure is there from the start); the diagnosis at update 5 is loss-curve step 6.
    expect(job).toMatchObject({ problems: ['saturation'], firstSeriousStep: 6, firstRightStep: 6, repair: 'lower-learning-rate', passed: true });
    // The same seed at the tutorial's healthy settings passes no such step.
    for (const name of ['mlm-blobs-lr-0.1', 'mlm-blobs-adam', 'mlm-blobs-rmsprop', 'mlm-blobs-momentum']) {
      const healthy = await runCaseJob({ case: name, seed: 2, arm: 'watch' });
      expect([name, healthy.problems]).toEqual([name, []]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
