import { describe, expect, it } from 'vitest';
import { gradguard } from './cli';

describe('gradguard bench', () => {
  it('detects, repairs and verifies a real exploding scenario, leaves a healthy one alone, and reports totals (--json)', () => {
    const r = gradguard(['bench', '--only', 'exploding-mlp-large-init', 'healthy-mlp-sine', '--json']);
    expect(r.code, r.stderr).toBe(0); // targets met on these two: exit 0
    const j = JSON.parse(r.stdout);
    expect(j.suite).toBe('custom');
    const [broken, healthy] = j.scenarios;
    expect(broken).toMatchObject({ scenario: 'exploding-mlp-large-init', expected: 'exploding-gradient', detectedCorrectly: true, firstDetectionStep: 0 });
    expect(broken.detected).toContain('exploding-gradient');
    // The first repair in the documented order that verifies wins; every earlier one is recorded as failed.
    const win = broken.attempts.findIndex((a: { success: boolean }) => a.success);
    expect(win).toBeGreaterThanOrEqual(0);
    expect(broken.repairedBy).toBe(broken.attempts[win].repair);
    expect(broken.attempts.slice(0, win).every((a: { success: boolean }) => !a.success)).toBe(true);
    expect(broken.attempts[win]).toMatchObject({ finite: true, criterionMet: true, remaining: [] });
    expect(healthy).toMatchObject({ scenario: 'healthy-mlp-sine', detected: [], attempts: [], detectedCorrectly: true, criterionMet: true });
    expect(j.totals).toMatchObject({ scenarios: 2, broken: 1, healthy: 1, detectionRate: 1, falseAlarmRate: 0, repairRate: 1 });
    expect(j.autotrainer).toEqual({ detectionRate: 1, falseAlarmRate: 0, repairRate: 0.978, overhead: 0.01 });
    // The step cost comes from the harness (tooling/bench): ratios to a bare step, interleaved, so finite and > -1.
    for (const k of ['monitorOverhead', 'skipClipOverhead']) expect(Number.isFinite(j.totals[k]) && j.totals[k] > -1).toBe(true);
  });

  it('prints the table side by side with AUTOTRAINER; --no-repair only detects', () => {
    const r = gradguard(['bench', '--only', 'exploding-mlp-large-init', '--no-repair']);
    expect(r.code, r.stderr).toBe(0); // detection targets met; repair was not asked for
    expect(r.stdout).toMatch(/exploding-mlp-large-init\s+exploding-gradient\s+exploding-gradient.*\s+0\s+not tried/);
    expect(r.stdout).toMatch(/detection rate\s+100\.0%\s+100\.0%/);
    expect(r.stdout).toMatch(/repair rate\s+not run\s+97\.8%/);
  });

  it('--pascanu runs the clipping experiment on the adding problem at T = 50 and reports the raw gradient norms', () => {
    const r = gradguard(['bench', '--only', 'healthy-mlp-sine', '--no-repair', '--pascanu', '--quick', '--seeds', '1', '--json']);
    expect(r.code, r.stderr).toBe(0); // --quick's 150 steps are not judged against the Pascanu target
    const p = JSON.parse(r.stdout).pascanu;
    expect(p).toMatchObject({ sequenceLength: 50, steps: 150, seeds: [1], optimizer: 'adam', units: 32 });
    for (const arm of [p.unclipped, p.clipped]) {
      expect(arm.runs).toHaveLength(1);
      expect(arm.runs[0]).toMatchObject({ seed: 1, finite: true });
      // Radius 1.2 over 50 steps: the first gradients are thousands of times the clipping threshold (1.2^49 ≈ 7.6e3).
      expect(arm.runs[0].maxNorm).toBeGreaterThan(1000);
      expect(arm.runs[0].stepsAboveOne).toBeGreaterThan(0);
      expect(arm.runs[0].mse).toBeGreaterThan(0);
    }
  });

  it('--workers 2 runs the scenarios in worker processes with results equal to a serial run, number for number', () => {
    const args = ['bench', '--only', 'exploding-mlp-large-init', 'healthy-mlp-sine', '--json'];
    const serial = gradguard([...args, '--workers', '1']);
    const parallel = gradguard([...args, '--workers', '2']);
    expect(serial.code, serial.stderr).toBe(0);
    expect(parallel.code, parallel.stderr).toBe(0);
    const s = JSON.parse(serial.stdout);
    const p = JSON.parse(parallel.stdout);
    expect([s.workers, p.workers]).toEqual([1, 2]);
    // Everything but wall-clock durations is equal: detections, steps, every repair attempt and its metric.
    const timeless = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'durationMs' ? undefined : v)));
    expect(timeless(p.scenarios)).toEqual(timeless(s.scenarios));
    expect(s.scenarios[0].attempts.length).toBeGreaterThan(0); // the repairs ran: there are numbers to compare
    expect(typeof s.scenarios[1].metric).toBe('number');
    for (const k of ['detectionRate', 'falseAlarmRate', 'repairRate', 'scenarios']) expect(p.totals[k]).toBe(s.totals[k]);
  });

  it('rejects an unknown scenario with one line and exit code 2', () => {
    const r = gradguard(['bench', '--only', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*no-such-scenario/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const w = gradguard(['bench', '--workers', '0']);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain("option '--workers <n>' argument '0' is invalid. must be an integer >= 1.");
  });
});
