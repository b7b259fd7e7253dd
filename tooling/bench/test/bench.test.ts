import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_NAMES } from '../src/configs';
import { activateBackend, measureBackend, rotate } from '../src/measure';
import { getModel } from '../src/models';
import { type BenchReport, machine, reportMarkdown } from '../src/report';
import { SETTLED_AFTER, soak } from '../src/soak';
import { median, medianInterval } from '../src/stats';
import { judgeTargets } from '../src/targets';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('bench harness (quick, cpu, spirals MLP)', () => {
  beforeAll(async () => {
    await activateBackend('cpu');
  });

  it('measures every configuration against bare, interleaved, with finite positive ratios', async () => {
    const result = await measureBackend({ backend: 'cpu', models: [getModel('spirals')], configs: [...CONFIG_NAMES], rounds: 2, steps: 6 });
    expect(result.backend).toBe('cpu');
    expect(result.tfjs).toBe(tf.version.tfjs);
    expect(result.models).toHaveLength(1);
    const m = result.models[0]!;
    expect(m.model).toBe('spirals');
    expect(m.steps).toBe(6);
    expect(m.bareMsPerStep).toBeGreaterThan(0);
    expect(m.configs.map((c) => c.config)).toEqual([...CONFIG_NAMES]);
    for (const c of m.configs) {
      for (const x of [c.ratio, c.ratioMin, c.ratioMax, c.msPerStep, c.cpuRatio, c.cpuRatioMin, c.cpuRatioMax]) {
        expect(Number.isFinite(x), `${c.config}: ${x}`).toBe(true);
        expect(x).toBeGreaterThan(0);
      }
      expect(c.ratioMin).toBeLessThanOrEqual(c.ratio);
      expect(c.ratio).toBeLessThanOrEqual(c.ratioMax);
    }
    expect(m.configs.find((c) => c.config === 'bare')!.ratio).toBe(1);
    expect(m.configs.find((c) => c.config === 'bare')!.cpuRatio).toBe(1);
    for (const c of m.configs) expect(c.cpuRatioMin).toBeLessThanOrEqual(c.cpuRatio);
    // Each round runs every configuration once, starting with a different one.
    expect(m.raw).toHaveLength(2);
    expect(m.raw[0]!.order).not.toEqual(m.raw[1]!.order);
    for (const r of m.raw) expect(Object.keys(r.msPerStep).sort()).toEqual([...CONFIG_NAMES].sort());
    for (const r of m.raw) expect(Object.keys(r.cpuMsPerStep).sort()).toEqual([...CONFIG_NAMES].sort());
    // naive is measured, and does what it says: one blocking readback per variable per step on top of bare's.
    const naive = m.configs.find((c) => c.config === 'naive')!;
    const bare = m.configs.find((c) => c.config === 'bare')!;
    expect(naive.readbacksPerStep.blocking - bare.readbacksPerStep.blocking).toBe(m.variables);
    for (const c of m.configs) expect(Number.isFinite(c.readbacksPerStep.blocking), c.config).toBe(true);
    const report: BenchReport = { machine: machine(), startedAt: new Date().toISOString(), rounds: 2, quick: true, backends: [result] };
    const md = reportMarkdown(report);
    expect(md).toContain('| model | steps × rounds | bare ms/step | watch | clip | skip+clip | skip+clip+rollback | naive |');
    expect(md).toMatch(/\| spirals \| 6 × 2 \| \d+\.\d\d \| \d+\.\d\d×/);
    expect(md).toContain('The same runs in process CPU time per step');
    expect(md).toMatch(/\| spirals \| \d+\.\d\d× <sub>/);
    // The spirals MLP has two targets (watch ≤ 1.05×, skip+clip ≤ 1.08×) and the naive comparison: each judged.
    expect(md).toContain('### targets (issue 12)');
    expect(md).toMatch(/\| cpu \| spirals \| watch ≤ 1\.05× \| (met|missed|undecided) \| \d\.\d{3}× \(95 % interval /);
    for (const c of m.configs) expect(c.ratioLow <= c.ratio && c.ratio <= c.ratioHigh, c.config).toBe(true);
  });

  it('soak: no tensor growth and every step in the run log, with NaN/Inf injected', async () => {
    const steps = SETTLED_AFTER + 60;
    const r = await soak('cpu', steps, { probability: 0.1 });
    expect(r.error).toBeUndefined();
    expect(r.steps).toBe(steps);
    expect(r.injected).toBeGreaterThan(0);
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.peakGrowth).toBeLessThanOrEqual(0);
    expect(r.leaked).toBe(0);
    expect(r.loggedSteps).toBe(steps);
    expect(r.weightsFinite).toBe(true);
    expect(r.ok).toBe(true);
  });

  it('the CLI runs one child per backend and writes JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    try {
      const json = join(dir, 'out.json');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--conditions=@gradguard/source', 'src/cli.ts', '--quick', '--backend', 'cpu', '--models', 'spirals', '--configs', 'naive', '--json', json],
        { cwd: packageDir, encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('### backend cpu');
      const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
      expect(report.quick).toBe(true);
      expect(report.backends.map((b) => b.backend)).toEqual(['cpu']);
      expect(report.backends[0]!.models[0]!.configs.map((c) => c.config)).toEqual(['bare', 'naive']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  it('rotate starts each round with the next configuration', () => {
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 3)).toEqual(['a', 'b', 'c']);
  });
  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('medianInterval: order-statistic confidence interval of a median', () => {
  it('is min–max for 7 values (coverage 1 − 2/128), the 4th to the 12th of 15 (1 − 2·576/32768), the 6th to the 16th of 21', () => {
    const seq = (n: number) => Array.from({ length: n }, (_, i) => 10 * (n - i)); // unsorted on purpose
    expect(medianInterval(seq(7))).toEqual({ low: 10, high: 70, coverage: 1 - 2 / 128 });
    // P(B ≤ 3) for B ~ Bin(15, ½) = (1 + 15 + 105 + 455) / 2^15 = 576 / 32768 ≤ 0.025 < P(B ≤ 4) = 1941 / 32768.
    expect(medianInterval(seq(15))).toEqual({ low: 40, high: 120, coverage: 1 - (2 * 576) / 32768 });
    // Bin(21, ½): P(B ≤ 5) = 27896 / 2^21 ≈ 0.0133 ≤ 0.025 < P(B ≤ 6) = 82160 / 2^21 ≈ 0.0392.
    expect(medianInterval(seq(21))).toEqual({ low: 60, high: 160, coverage: 1 - (2 * 27896) / 2 ** 21 });
    expect(medianInterval([]).coverage).toBe(0);
  });
});

describe('judgeTargets', () => {
  const cfg = (config: string, ratio: number, low: number, high: number) => ({ config, ratio, ratioLow: low, ratioHigh: high }) as never;
  const backend = (configs: never[]) => ({ backend: 'wasm', tfjs: '4.22.0', models: [{ model: 'mlp-20x64', configs }] }) as never;
  it('met only when the whole interval is within the target, missed when all of it is above, else undecided', () => {
    const verdicts = (watch: [number, number, number], naive: [number, number, number]) =>
      judgeTargets([backend([cfg('watch', ...watch), cfg('naive', ...naive)])]).map((v) => `${v.what}: ${v.verdict}`);
    expect(verdicts([1.01, 1.0, 1.02], [1.2, 1.15, 1.25])).toEqual(['watch ≤ 1.02×: met', 'watch ≥ 5× cheaper than naive: met']);
    // Overhead 0.02–0.04 vs a fifth of naive's 0.15–0.25 (0.03–0.05): straddles.
    expect(verdicts([1.03, 1.02, 1.04], [1.2, 1.15, 1.25])).toEqual(['watch ≤ 1.02×: undecided', 'watch ≥ 5× cheaper than naive: undecided']);
    expect(verdicts([1.08, 1.06, 1.1], [1.2, 1.15, 1.25])).toEqual(['watch ≤ 1.02×: missed', 'watch ≥ 5× cheaper than naive: missed']);
  });
});
