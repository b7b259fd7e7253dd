import { describe, expect, it } from 'vitest';
import { classifyRun } from '../src/outcome';
import { gradguard } from './cli';

// The exploding setup of ENVIRONMENT.md: SimpleRNN(32, relu), orthogonal recurrent gain 1.5, T 50, SGD 0.1 — NaN at
// step 1–2 unclipped in every seed; clipped to global norm 1 it stays finite.
const EXPLODING = ['train', '--recurrent-gain', '1.5', '--lr', '0.1', '--steps', '10', '--samples', '128', '--json'];

describe('train exit codes: run failed (1), problems found and handled (0, or 3 with --strict), healthy (0)', () => {
  it.each([1, 2])('seed %i: the exploding RNN fails unguarded; clipped, the clip holds', (seed) => {
    const args = [...EXPLODING, '--seed', String(seed)];
    const u = gradguard(args);
    expect(u.code, u.stderr).toBe(1);
    const uj = JSON.parse(u.stdout);
    expect(uj).toMatchObject({ outcome: 'failed', exitCode: 1, stoppedEarly: true, weightsFinite: false });
    expect(uj.firstNonFiniteStep).toBeLessThanOrEqual(2);

    const g = gradguard([...args, '--clip-global-norm', '1']);
    expect(g.code, g.stderr).toBe(0);
    const gj = JSON.parse(g.stdout);
    expect(gj).toMatchObject({ outcome: 'handled', exitCode: 0, healthy: false, stoppedEarly: false, steps: 10, weightsFinite: true, firstNonFiniteStep: null });
    // The problem was real: gradients above the bound (1) were clipped, and the monitor flagged them.
    expect(gj.maxPreClipNorm).toBeGreaterThan(10);
    expect(gj.clippedSteps).toBeGreaterThan(0);
    // Seed 1: a critical exploding-gradient; seed 2: the recurrent radius 1.5 as a warning (the clip kept ‖g‖ ≤ 12).
    const found = gj.diagnoses.filter((d: { severity: string }) => d.severity !== 'info').map((d: { problem: string }) => d.problem);
    expect(found.some((p: string) => p === 'exploding-gradient' || p === 'recurrent-instability'), JSON.stringify(gj.diagnoses)).toBe(true);

    const s = gradguard([...args, '--clip-global-norm', '1', '--strict']);
    expect(s.code, s.stderr).toBe(3);
    expect(JSON.parse(s.stdout)).toMatchObject({ outcome: 'handled', exitCode: 3 });
  });

  it('skipping the non-finite steps with an LR back-off also holds: handled, and the text says so', () => {
    const r = gradguard([...EXPLODING.filter((a) => a !== '--json'), '--skip-non-finite', '--clip-value', '0.5', '--lr-backoff', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/weights finite\s+yes/);
    expect(r.stdout).toContain('problems found and handled: the mitigations held (finite weights, run completed) (exit code 0)');
  });

  it('a healthy run exits 0, with --strict too', () => {
    for (const strict of [[], ['--strict']]) {
      const r = gradguard(['train', '--seq-len', '10', '--samples', '64', '--steps', '6', '--lr', '0.01', '--json', ...strict]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'healthy', exitCode: 0, healthy: true, diagnoses: [] });
    }
  });

  it('classifyRun: every outcome from hand-made facts', () => {
    const base = { completed: true, weightsFinite: true, finalLoss: 0.2, firstNonFiniteStep: null, guarded: false, problems: 0 };
    expect(classifyRun(base, false)).toEqual({ outcome: 'healthy', code: 0 });
    expect(classifyRun(base, true)).toEqual({ outcome: 'healthy', code: 0 });
    expect(classifyRun({ ...base, problems: 2 }, false)).toEqual({ outcome: 'unhandled', code: 1 });
    expect(classifyRun({ ...base, firstNonFiniteStep: 3 }, false)).toEqual({ outcome: 'unhandled', code: 1 });
    expect(classifyRun({ ...base, guarded: true, problems: 2 }, false)).toEqual({ outcome: 'handled', code: 0 });
    expect(classifyRun({ ...base, guarded: true, problems: 2 }, true)).toEqual({ outcome: 'handled', code: 3 });
    // Guarded but did not hold: stopped, NaN weights, or a NaN last loss is a failed run, strict or not.
    for (const bad of [{ completed: false }, { weightsFinite: false }, { finalLoss: Number.NaN }, { finalLoss: Number.POSITIVE_INFINITY }]) {
      expect(classifyRun({ ...base, guarded: true, problems: 1, ...bad }, false)).toEqual({ outcome: 'failed', code: 1 });
      expect(classifyRun({ ...base, guarded: true, problems: 1, ...bad }, true)).toEqual({ outcome: 'failed', code: 1 });
    }
  });
});
