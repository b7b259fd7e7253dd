import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunLogFile } from '@gradguard/reporter/node';
import { describe, expect, it } from 'vitest';
import { CLI, gradguard } from './cli';

describe('gradguard demo', () => {
  it('is built (turbo builds the CLI before its tests)', () => {
    expect(existsSync(CLI)).toBe(true);
  });

  it('explodes unguarded, stays finite clipped, prints both side by side, writes two valid run logs, exits 0', () => {
    const out = mkdtempSync(join(tmpdir(), 'gradguard-demo-'));
    const r = gradguard(['demo', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    // Live view on stderr: both runs, the diagnosis with its layer and numbers.
    expect(r.stderr).toMatch(/▶ unguarded: demo-unguarded — simple_rnn_model \(1,153 params\) on (wasm|cpu)/);
    expect(r.stderr).toMatch(/backend (wasm|cpu) \(@tensorflow\/tfjs-backend-(wasm|cpu)\)/);
    expect(r.stderr).toMatch(/✖ step \d critical exploding-gradient in layer "rnn" \(onset\)/);
    expect(r.stderr).toMatch(/critical non-finite in layer "rnn"/);
    expect(r.stderr).toContain('▶ guarded: demo-guarded');
    // Summary on stdout.
    expect(r.stdout).toMatch(/steps trained\s+\d \(stopped\)\s+120/);
    expect(r.stdout).toMatch(/weights finite\s+no\s+yes/);
    expect(r.stdout).toContain('Diagnosis (unguarded):');
    // The logs read back and tell the same story.
    const u = readRunLogFile(join(out, 'demo-unguarded.jsonl'));
    const g = readRunLogFile(join(out, 'demo-guarded.jsonl'));
    expect(u.end).toMatchObject({ status: 'stopped' });
    expect(u.steps.some((s) => s.nonFinite > 0)).toBe(true);
    expect(u.diagnoses.map((d) => d.problem)).toContain('non-finite');
    expect(g.end).toMatchObject({ status: 'completed', steps: 120 });
    expect(g.steps.every((s) => Number.isFinite(s.loss!) && s.nonFinite === 0)).toBe(true);
    expect(g.steps[0]!.preClipNorm).toBeGreaterThan(1e3);
    expect(g.steps[0]!.postClipNorm).toBeCloseTo(1, 3);
    expect(g.header.config).toMatchObject({ transform: 'clipByGlobalNorm(1)', learningRate: 0.1 });
  });

  it('--json prints a machine-readable summary: the guarded run beats the adding baseline', () => {
    const out = mkdtempSync(join(tmpdir(), 'gradguard-demo-'));
    const r = gradguard(['demo', '--json', '-o', out, '--seed', '2']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.unguarded.firstNonFiniteStep).toBeLessThanOrEqual(3);
    expect(j.unguarded.weightsFinite).toBe(false);
    expect(j.guarded.firstNonFiniteStep).toBeNull();
    expect(j.guarded.weightsFinite).toBe(true);
    expect(j.guarded.testMse).toBeLessThan(j.baselineMse);
    expect(j.guarded.clippedSteps).toBeGreaterThan(0);
  });

  it('rejects bad flags with one line and exit code 2', () => {
    const r = gradguard(['demo', '--seed', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--seed <n>' argument 'abc' is invalid. must be an integer >= 0.");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const b = gradguard(['--backend', 'tpu', 'demo']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/argument 'tpu' is invalid. Allowed choices are auto, wasm, cpu, tensorflow, webgpu/);
    expect(gradguard(['nope']).code).toBe(2);
    // A named backend that is not installed fails (exit 2) naming the package, instead of silently falling back.
    const tf = gradguard(['--backend', 'tensorflow', 'demo']);
    expect(tf.code).toBe(2);
    expect(tf.stderr).toMatch(/error: The 'tensorflow' backend is unavailable: .*@tensorflow\/tfjs-node is not installed\./);
    expect(tf.stderr).toMatch(/hint: Install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('--help lists the commands and the exit codes', () => {
    const r = gradguard(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo');
    expect(r.stdout).toMatch(/Exit codes:\n {2}0 {2}healthy; for train also "problems found and handled"/);
    expect(r.stdout).toMatch(/\n {2}1 {2}problems found: a run failed/);
    expect(r.stdout).toMatch(/\n {2}2 {2}usage or input error/);
    expect(r.stdout).toMatch(/\n {2}3 {2}train --strict, run --strict: problems found and handled/);
  });
});
