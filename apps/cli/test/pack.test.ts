import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// A new user's install: the CLI and the @gradguard packages it needs are packed with `pnpm pack` (which turns
// `workspace:` and `catalog:` into versions, as a publish does), installed into an empty npm project from those
// tarballs and from the npm registry (tfjs and the rest), and run through `npx gradguard`.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI_DIR = join(ROOT, 'apps', 'cli');
// Shared across runs: a second run installs from the cache instead of the network.
const NPM_CACHE = join(ROOT, 'node_modules', '.cache', 'gradguard-pack-test-npm');
const work = mkdtempSync(join(tmpdir(), 'gradguard-pack-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** The workspace packages the CLI needs at run time: its @gradguard dependencies and theirs, by directory. */
function workspaceClosure(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const group of ['packages', 'apps', 'tooling']) {
    for (const d of readdirSync(join(ROOT, group))) {
      const p = join(ROOT, group, d, 'package.json');
      if (existsSync(p)) byName.set(readJson(p).name, join(ROOT, group, d));
    }
  }
  const needed = new Map<string, string>();
  const visit = (dir: string): void => {
    const m = readJson(join(dir, 'package.json'));
    if (needed.has(m.name)) return;
    needed.set(m.name, dir);
    for (const dep of Object.keys({ ...m.dependencies, ...m.optionalDependencies })) {
      const depDir = byName.get(dep);
      if (depDir) visit(depDir);
    }
  };
  visit(CLI_DIR);
  return needed;
}

/** The repository's own pnpm (scripts/setup.mjs installs it into .tools/), else the one on PATH. */
function pnpmBin(): string {
  const tools = join(ROOT, '.tools');
  for (const d of existsSync(tools) ? readdirSync(tools) : []) {
    const bin = join(tools, d, 'node_modules', '.bin', 'pnpm');
    if (d.startsWith('pnpm-') && existsSync(bin)) return bin;
  }
  return 'pnpm';
}

// npm must see the environment a user's shell gives, not the npm_* settings of the pnpm/turbo run around the test.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(command: string, args: readonly string[], cwd: string, timeout = 300_000) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...cleanEnv, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const packed = new Map<string, Manifest>();

beforeAll(() => {
  mkdirSync(tarballs, { recursive: true });
  mkdirSync(project, { recursive: true });
  for (const [name, dir] of workspaceClosure()) {
    const r = run(pnpmBin(), ['pack', '--pack-destination', tarballs], dir);
    expect(r.code, `pnpm pack ${name}: ${r.stderr}`).toBe(0);
    const file = r.stdout.trim().split('\n').at(-1)!;
    const manifest = run('tar', ['-xzOf', file, 'package/package.json'], tarballs);
    packed.set(name, JSON.parse(manifest.stdout) as Manifest);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'try-gradguard', version: '1.0.0', private: true }));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--cache', NPM_CACHE, ...files], project, 600_000);
  expect(install.code, install.stderr).toBe(0);
}, 700_000);

describe('gradguard from packed tarballs in an empty npm project', () => {
  it('the packages are publishable: the CLI is "gradguard" with a bin, no workspace or catalog ranges, no private package needed', () => {
    const cli = packed.get('gradguard')!;
    expect(cli).toMatchObject({ name: 'gradguard', bin: { gradguard: './dist/cli.js' } });
    expect(cli.private).toBeUndefined();
    for (const [name, m] of packed) {
      expect(m.private, name).toBeUndefined();
      for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies, ...m.optionalDependencies })) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^(workspace|catalog):/);
      }
    }
    // The benchmark harness is private: it is bundled into dist, never a run-time dependency.
    expect(Object.keys(cli.dependencies ?? {})).not.toContain('@gradguard/bench');
    expect([...packed.keys()].sort()).toEqual(
      ['@gradguard/autopilot', '@gradguard/backend-node-gpu', '@gradguard/backend-webgpu', '@gradguard/core', '@gradguard/mitigations', '@gradguard/models', '@gradguard/reporter', 'gradguard'],
    );
  });

  it('exactly one @tensorflow/tfjs-core is installed (one engine per process)', () => {
    const r = run('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], project);
    const copies = new Set(r.stdout.trim().split('\n').filter((l) => l.endsWith('tfjs-core')));
    expect([...copies]).toEqual([join(project, 'node_modules', '@tensorflow', 'tfjs-core')]);
  });

  it('npx gradguard --help and --version answer', () => {
    const help = run('npx', ['gradguard', '--help'], project);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gradguard \[options\] \[command\]/);
    expect(help.stdout).toMatch(/\n {2}3 {2}train --strict, run --strict: problems found and handled/);
    const version = run('npx', ['gradguard', '--version'], project);
    expect(version.stdout.trim()).toBe(readJson(join(CLI_DIR, 'package.json')).version);
  });

  it('npx gradguard demo: unguarded explodes, clipped stays finite; diagnose reads the log it wrote', () => {
    const demo = run('npx', ['gradguard', 'demo', '-q', '-o', 'runs'], project);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/weights finite\s+no\s+yes/);
    expect(demo.stdout).toMatch(/first non-finite step\s+[0-3]\s+—/);
    const diagnose = run('npx', ['gradguard', 'diagnose', join('runs', 'demo-unguarded.jsonl'), '--json'], project);
    expect(diagnose.code).toBe(1); // problems found
    const j = JSON.parse(diagnose.stdout);
    expect(j).toMatchObject({ name: 'demo-unguarded', healthy: false, finished: true });
    expect(j.diagnoses.map((d: { problem: string }) => d.problem)).toContain('exploding-gradient');
  });

  it('npx gradguard run on an unmodified example-style script: live diagnoses, its own output kept, a log diagnose and report read', () => {
    // The style of the public tfjs examples: the project's own @tensorflow/tfjs, a Sequential model compiled with a
    // string optimizer, model.fit on unnormalized data (inputs and targets in the hundreds): SGD at 0.01 explodes.
    writeFileSync(join(project, 'train.mjs'), `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.dense({ units: 16, inputShape: [4], activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
model.add(tf.layers.dense({ units: 1, name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const xs = tf.randomUniform([128, 4], 0, 300, 'float32', 3);
const ys = tf.sum(xs, 1, true);
const h = await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0 });
console.log('final loss', h.history.loss.at(-1));
`);
    const r = run('npx', ['gradguard', 'run', 'train.mjs'], project);
    expect(r.code, r.stderr).toBe(0); // watch-only: the script's own exit code
    expect(r.stdout).toMatch(/^final loss (NaN|[\d.e+]+)\n$/); // the script's stdout, nothing of gradguard's
    expect(r.stderr).toMatch(/✖ step \d+ critical (exploding-gradient|loss-divergence|non-finite)/);
    const logs = readdirSync(join(project, 'gradguard-runs')).filter((f) => f.endsWith('.jsonl'));
    expect(logs).toHaveLength(1);
    const log = join('gradguard-runs', logs[0]!);
    expect(r.stderr).toContain(`gradguard diagnose ${log}`);
    const diagnose = run('npx', ['gradguard', 'diagnose', log, '--json'], project);
    expect(diagnose.code).toBe(1); // problems found
    const j = JSON.parse(diagnose.stdout);
    expect(j.healthy).toBe(false);
    expect(j.diagnoses.some((d: { severity: string }) => d.severity === 'critical')).toBe(true);
    const report = run('npx', ['gradguard', 'report', log, '-o', 'run.html'], project);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(project, 'run.html'), 'utf8')).toContain('<html');
  });

  it('npx gradguard bench --workers 2: the worker file and the bundled harness run from the install', () => {
    const r = run('npx', ['gradguard', 'bench', '--only', 'exploding-mlp-large-init', 'healthy-mlp-sine', '--no-repair', '--workers', '2', '--json'], project);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.workers).toBe(2);
    expect(j.totals).toMatchObject({ scenarios: 2, detectionRate: 1, falseAlarmRate: 0 });
  });
});
