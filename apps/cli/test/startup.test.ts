import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, gradguard } from './cli';

const TRACE_HOOK = fileURLToPath(new URL('./trace-imports.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gradguard-startup-'));
const LOG = join(dir, 'run.jsonl');
const LOG2 = join(dir, 'run2.jsonl');

/** Runs the built CLI with the import tracer and returns every module URL the ESM loader resolved, and the exit code. */
function traced(args: readonly string[]): { code: number; urls: string[] } {
  const file = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', TRACE_HOOK, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GRADGUARD_TRACE_IMPORTS: file, NO_COLOR: '1' },
    timeout: 120_000,
  });
  const urls = readFileSync(file, 'utf8').trim().split('\n');
  rmSync(file);
  return { code: r.status ?? -1, urls };
}

const loads = (urls: readonly string[], pkg: string): boolean => urls.some((u) => u.includes(`/node_modules/${pkg}/`) || u.includes(`/node_modules/.pnpm/${pkg.replace('/', '+')}@`));

beforeAll(() => {
  const small = ['train', '--seq-len', '10', '--samples', '64', '--steps', '4', '--lr', '0.01', '-q'];
  expect(gradguard([...small, '--log', LOG]).code).toBe(0);
  expect(gradguard([...small, '--seed', '2', '--log', LOG2]).code).toBe(0);
}, 120_000);

describe('gradguard starts fast: tfjs loads only in the commands that train', () => {
  it('--help: median of 7 runs under 0.5 s (it was 2.4–3.2 s when all of tfjs loaded first)', () => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
      times.push((performance.now() - t0) / 1000);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage: gradguard');
    }
    const median = [...times].sort((a, b) => a - b)[3]!;
    expect(median, `--help wall times: ${times.map((t) => t.toFixed(3)).join(', ')} s`).toBeLessThan(0.5);
  });

  it('--help loads commander and no tfjs, no run-log validator, no reporter', () => {
    const { code, urls } = traced(['--help']);
    expect(code).toBe(0);
    expect(loads(urls, 'commander')).toBe(true); // the tracer sees packages: this check can fail
    expect(urls.filter((u) => u.includes('@tensorflow'))).toEqual([]);
    expect(loads(urls, 'zod')).toBe(false);
    expect(urls.filter((u) => u.includes('/reporter/'))).toEqual([]);
  });

  it('train loads @tensorflow/tfjs-core (the tracer sees it when it is there)', () => {
    const { code, urls } = traced(['train', '--seq-len', '4', '--samples', '32', '--steps', '1', '-q']);
    expect(code).toBe(0);
    expect(urls.some((u) => u.includes('@tensorflow/tfjs-core/'))).toBe(true);
  });

  it('diagnose, report and compare read logs without loading tfjs', () => {
    for (const args of [['diagnose', LOG], ['diagnose', LOG, '--json'], ['report', LOG, '-o', join(dir, 'r.html')], ['compare', LOG, LOG2]]) {
      const { code, urls } = traced(args);
      expect(code, args.join(' ')).toBe(0);
      expect(urls.some((u) => u.includes('/reporter/')), args.join(' ')).toBe(true);
      expect(urls.filter((u) => u.includes('@tensorflow')), args.join(' ')).toEqual([]);
    }
  });
});
