import { describe, expect, it } from 'vitest';
import { gradguard } from './cli';

// `gradguard bench --casebook` on a quick subset: one broken case (the MLM regression on unscaled targets, NaN at
// steps 7/7 on seeds 1–2) and one healthy one (tfjs iris), seeds 1–2, on cpu (the ground truth's backend).
const ARGS = ['bench', '--casebook', '--only', 'mlm-regression-exploding', 'tfjs-iris', '--seeds', '2', '--json'];
const timeless = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'durationMs' || k === 'seconds' ? undefined : v)));

describe('gradguard bench --casebook', () => {
  it('gives identical results with --workers 1 and --workers 2, number for number, and scores them', () => {
    const serial = gradguard([...ARGS, '--workers', '1']);
    const parallel = gradguard([...ARGS, '--workers', '2']);
    expect(serial.stderr).not.toMatch(/error/i);
    const s = JSON.parse(serial.stdout);
    const p = JSON.parse(parallel.stdout);
    expect([s.workers, p.workers]).toEqual([1, 2]);
    expect(s).toMatchObject({ backend: 'cpu', suite: 'casebook', seeds: [1, 2], acceptedFixes: null });
    // 2 seeds × (autopilot + the random fix with each of the 5 applicable repairs) for the broken case, 2 × watch.
    expect(s.results).toHaveLength(14);
    const repairs = ['normalize-data', 'clipnorm-1', 'lower-learning-rate', 'adam', 'batch-norm'];
    expect(s.results.filter((r: { arm: string }) => r.arm === 'random-fix').map((r: { repair: string }) => r.repair)).toEqual([...repairs, ...repairs]);
    expect(timeless(p.results)).toEqual(timeless(s.results));
    expect(timeless(p.score)).toEqual(timeless(s.score));
    expect([serial.code, parallel.code]).toEqual([parallel.code, serial.code]);

    const broken = s.results.filter((r: { case: string }) => r.case === 'mlm-regression-exploding');
    for (const r of broken.filter((x: { arm: string }) => x.arm === 'autopilot')) {
      // The loss doubles at step 4 / 3 (ground truth) and turns NaN at 7: the right family is named by then.
      expect(r.firstRightStep).toBeGreaterThanOrEqual(1);
      expect(r.firstRightStep).toBeLessThanOrEqual(r.seed === 1 ? 4 + 5 : 3 + 5);
      // Unscaled targets (std ≈ 180): the autopilot scales the data first, which reaches R² ≥ 0.9.
      expect(r).toMatchObject({ repair: 'normalize-data', passed: true, outcome: 'learns' });
      expect(r.metric).toBeGreaterThan(0.9);
    }
    for (const r of s.results.filter((x: { case: string }) => x.case === 'tfjs-iris')) {
      expect(r).toMatchObject({ arm: 'watch', firstSeriousStep: null, passed: true });
      expect(r.metric).toBeGreaterThan(0.85);
    }
    expect(s.score).toMatchObject({ brokenRuns: 2, healthyRuns: 2, detectionRate: 1, falseAlarmRate: 0, autopilotRepairRate: 1 });
    // The baseline's rate is the share of all 10 random-fix runs that reached the criterion (2 seeds × 5 repairs).
    const randomPassed = s.results.filter((r: { arm: string; passed: boolean }) => r.arm === 'random-fix' && r.passed).length;
    expect(s.score.randomRepairRate).toBeCloseTo(randomPassed / 10, 12);
    // Exit 0 exactly when the autopilot repairs more runs than the random fix (detection and false alarms are met here).
    expect(serial.code).toBe(s.score.autopilotRepairRate > s.score.randomRepairRate ? 0 : 1);
  }, 300_000);

  it('prints the per-case table and the totals next to the random-fix baseline and AUTOTRAINER', () => {
    const r = gradguard(['bench', '--casebook', '--only', 'mlm-regression-exploding', '--seeds', '1', '--workers', '1']);
    expect(r.stdout).toMatch(/mlm-regression-exploding\s+exploding\s+1\/1\s+[-\d.]+\s+1\/1 \(normalize-data\)\s+(0|1|0\.\d)\/1/);
    expect(r.stdout).toMatch(/\s+gradguard\s+random-fix baseline\s+AUTOTRAINER \(ICSE 2021\)/);
    expect(r.stdout).toMatch(/repair rate \(criterion reached after one repair; random fix: expectation over every applicable repair\)\s+100 %\s+\d+ %\s+97\.8 %/);
    expect(r.stdout).toMatch(/time\s+[\d.]+ s on cpu, 1 worker/);
  }, 300_000);

  it('rejects an unknown case and seeds without ground truth with one line and exit code 2', () => {
    const u = gradguard(['bench', '--casebook', '--only', 'no-such-case']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^error: no casebook case named "no-such-case"/);
    const s = gradguard(['bench', '--casebook', '--seeds', '4']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/seeds 1–3 only/);
  });
});
