import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const rootPkg = JSON.parse(read('package.json')) as { packageManager: string; scripts: Record<string, string> };
const pnpmVersion = /^pnpm@(\d+\.\d+\.\d+)/.exec(rootPkg.packageManager)?.[1] ?? 'missing';

/** The environment `node scripts/fresh-env.mjs` prints for `.ci/run`, applied to `base`. */
function freshEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'fresh-env.mjs')], { env: base, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const env: NodeJS.ProcessEnv = { ...base };
  for (const line of r.stdout.trim().split('\n')) {
    const set = /^export (\w+)='(.*)'$/.exec(line);
    const unset = /^unset (\w+)$/.exec(line);
    if (set) env[set[1]!] = set[2]!.replaceAll(`'\\''`, "'");
    else if (unset) delete env[unset[1]!];
    else throw new Error(`unexpected line from fresh-env: ${line}`);
  }
  return env;
}

function which(command: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { env, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const scratch = mkdtempSync(join(tmpdir(), 'gradguard-quickstart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the README's quick start", () => {
  it('is two commands: npm run demo, then npm test', () => {
    const section = /## Quick start\n([\s\S]*?)\n## /.exec(read('README.md'))?.[1];
    expect(section, 'README has a "## Quick start" section').toBeDefined();
    const block = /```sh\n([\s\S]*?)```/.exec(section!)?.[1];
    const commands = block!.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm run demo', 'npm test']);
  });

  it('runs set-up first in both commands, and CI runs exactly the test command in a fresh environment', () => {
    expect(rootPkg.scripts.demo).toBe('node scripts/setup.mjs --no-browser --then demo:run');
    expect(rootPkg.scripts.test).toBe('node scripts/setup.mjs --then test:run');
    expect(rootPkg.scripts['demo:run']).toMatch(/node apps\/cli\/dist\/cli\.js demo$/);
    const ci = read('.ci/run').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ci).toContain('eval "$(node scripts/fresh-env.mjs)"');
    expect(ci.at(-1)).toBe('npm test');
    expect(ci.indexOf('eval "$(node scripts/fresh-env.mjs)"')).toBeLessThan(ci.length - 1);
  });

  it('pins pnpm in one place: package.json packageManager', () => {
    expect(pnpmVersion).toMatch(/^10\./);
    const pinned = spawnSync('git', ['grep', '-n', '-E', 'pnpm@[0-9]', '--', ':!pnpm-lock.yaml', ':!*.md'], { cwd: root, encoding: 'utf8' });
    expect(pinned.stdout.trim().split('\n')).toEqual([`package.json:5:  "packageManager": "pnpm@${pnpmVersion}",`]);
  });
});

describe('fresh-env (what .ci/run runs npm test in)', () => {
  it("drops PATH directories holding a pnpm and shadows one that also holds node with stubs that fail", () => {
    const userBin = join(scratch, 'user-bin');
    const systemBin = join(scratch, 'system-bin');
    for (const dir of [userBin, systemBin]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'pnpm'), '#!/bin/sh\necho 9.0.0\n');
      chmodSync(join(dir, 'pnpm'), 0o755);
    }
    symlinkSync(process.execPath, join(systemBin, 'node'));
    const env = freshEnv({ ...process.env, PATH: [userBin, systemBin, process.env.PATH].join(':'), PNPM_HOME: userBin });
    const dirs = env.PATH!.split(':');
    expect(dirs).not.toContain(userBin);
    expect(dirs).toContain(systemBin);
    expect(env.PNPM_HOME).toBeUndefined();
    expect(env.NPM_CONFIG_PREFIX).toMatch(/npm-prefix$/);
    expect(existsSync(env.NPM_CONFIG_PREFIX!)).toBe(false); // nothing installed there: an empty, private prefix
    const pnpm = which('pnpm', env);
    expect(pnpm).toBeDefined();
    expect(pnpm).not.toBe(join(systemBin, 'pnpm'));
    const r = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8', shell: true });
    expect(r.status).toBe(127);
    expect(r.stderr).toContain("the machine's own pnpm was called");
  });
});

describe('a fresh clone without pnpm', () => {
  it('gets through set-up with only node and npm, and turbo finds set-up\'s pnpm', () => {
    // The clone: the files git would give (tracked, plus new files not ignored), without node_modules or .tools.
    const clone = join(scratch, 'clone');
    const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
    expect(files.status).toBe(0);
    for (const f of files.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(root, f))) continue; // deleted in the work tree, not yet committed
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      copyFileSync(join(root, f), join(clone, f));
    }
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
    expect(existsSync(join(clone, '.tools'))).toBe(false);

    const env = freshEnv({ ...process.env, CI: 'true' });
    delete env.npm_lifecycle_event;
    delete env.npm_package_json;
    // A real task: turbo runs every task through the package manager's binary, and a bare `npx pnpm install` left
    // none on PATH ("Unable to find package manager binary"). A dry run does not look for it, so it proves nothing.
    const r = spawnSync(process.execPath, ['scripts/setup.mjs', '--no-browser', '--exec', 'turbo', 'run', 'typecheck',
      '--filter=@gradguard/quickstart-check', '--output-logs=full'], { cwd: clone, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`installing pnpm ${pnpmVersion} into .tools/pnpm-${pnpmVersion}`);
    expect(r.stdout).toMatch(new RegExp(`Done in [\\d.]+m?s using pnpm v${pnpmVersion.replaceAll('.', '\\.')}`));
    expect(r.stdout).toMatch(/Tasks:\s+1 successful, 1 total/);
    // The same task without set-up's pnpm on PATH fails as it did for users: the check above can fail.
    const bare = spawnSync(join(clone, 'node_modules', '.bin', 'turbo'), ['run', 'typecheck', '--filter=@gradguard/quickstart-check', '--force'],
      { cwd: clone, env: { ...env, TURBO_TELEMETRY_DISABLED: '1' }, encoding: 'utf8' });
    expect(bare.status).not.toBe(0);
    expect(`${bare.stdout}${bare.stderr}`).toContain('Unable to find package manager binary');
    // The user's machine is unchanged: pnpm lives in the clone, the private global prefix stayed empty.
    expect(JSON.parse(readFileSync(join(clone, '.tools', `pnpm-${pnpmVersion}`, 'node_modules', 'pnpm', 'package.json'), 'utf8')).version).toBe(pnpmVersion);
    expect(existsSync(env.NPM_CONFIG_PREFIX!)).toBe(false);
  }, 300_000);
});
