#!/usr/bin/env node
// Makes a fresh clone ready with nothing but Node and npm, then runs a root script with the workspace's tools on PATH.
//
//   node scripts/setup.mjs [--no-browser] [--then <npm script>] [--exec <command> [args...]]
//
// - pnpm: the exact version in package.json's `packageManager` (the one place it is pinned) is installed into
//   `.tools/pnpm-<version>/` inside this clone with npm — never globally, so it works without corepack, without a
//   global pnpm and without write access to the global npm prefix. A pnpm already on PATH is ignored: its version
//   is whatever the machine happened to have.
// - the workspace's dependencies: `pnpm install` (frozen lockfile when CI is set, as pnpm does by default; pnpm keeps its content-addressed store in its
//   default per-user location, as any pnpm install does).
// - unless --no-browser: Debian's chromium and libvulkan1 (the browser and WebGPU tests drive them headless), with
//   apt-get when running as root; otherwise a line that says what to install.
// - --then runs `npm run <script>`, --exec runs a command, with `.tools/pnpm-<version>/node_modules/.bin` first on
//   PATH: turbo looks for a `pnpm` binary there, which is why a bare `npx pnpm install` was not enough.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const isWindows = process.platform === 'win32';

function fail(message) {
  console.error(`setup: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: isWindows, ...options });
  if (r.error) fail(`could not start ${command}: ${r.error.message}`);
  return r.status ?? 1;
}

/** The pnpm version pinned by package.json's `packageManager` ("pnpm@<x.y.z>", optionally "+sha512.…"). */
export function pinnedPnpmVersion(pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))) {
  const m = /^pnpm@(\d+\.\d+\.\d+)(\+.*)?$/.exec(pkg.packageManager ?? '');
  if (!m) throw new Error(`package.json's packageManager is ${JSON.stringify(pkg.packageManager)}; expected "pnpm@<x.y.z>"`);
  return m[1];
}

/** Where set-up keeps its own pnpm, relative to the repository root. */
export function pnpmToolDir(version) {
  return join('.tools', `pnpm-${version}`);
}

function installedVersion(dir) {
  const p = join(root, dir, 'node_modules', 'pnpm', 'package.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')).version : undefined;
}

function ensureNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Node ${process.versions.node} is too old: gradguard needs Node 20.19 or newer (see package.json "engines").`);
  }
}

function ensureBrowser() {
  const haveChromium = existsSync('/usr/bin/chromium');
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const haveVulkan = ldconfig.status === 0 && ldconfig.stdout.includes('libvulkan.so.1');
  if (haveChromium && haveVulkan) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (isRoot && apt) {
    console.log('setup: installing chromium and libvulkan1 from Debian (the browser tests need them)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-qq'], { env }) !== 0 ||
      run('apt-get', ['install', '-y', '-qq', 'chromium', 'libvulkan1'], { env, stdio: ['ignore', 'ignore', 'inherit'] }) !== 0) {
      fail('apt-get could not install chromium and libvulkan1; the browser tests cannot run without them.');
    }
  } else {
    console.error('setup: /usr/bin/chromium or libvulkan1 is missing; install them (apt-get install chromium libvulkan1) for the browser tests');
  }
}

function ensurePnpm() {
  const version = pinnedPnpmVersion();
  const dir = pnpmToolDir(version);
  if (installedVersion(dir) !== version) {
    console.log(`setup: installing pnpm ${version} into ${dir} (local to this clone, with npm)`);
    const status = run('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      '--loglevel=error', '--ignore-scripts', `pnpm@${version}`]);
    if (status !== 0 || installedVersion(dir) !== version) {
      fail(`npm could not install pnpm@${version} into ${dir}. Check that the npm registry is reachable (npm ping).`);
    }
  }
  return join(root, dir, 'node_modules', '.bin');
}

function main(argv) {
  let browser = true;
  let then;
  let exec;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-browser') browser = false;
    else if (a === '--then') then = argv[++i];
    else if (a === '--exec') { exec = argv.slice(i + 1); break; }
    else fail(`unknown argument ${JSON.stringify(a)}; usage: node scripts/setup.mjs [--no-browser] [--then <npm script>] [--exec <command> [args...]]`);
  }
  if (then === undefined && argv.includes('--then')) fail('--then needs the name of a root npm script, e.g. --then test:run');
  if (exec !== undefined && exec.length === 0) fail('--exec needs a command, e.g. --exec pnpm --version');

  ensureNode();
  if (browser) ensureBrowser();
  const pnpmBin = ensurePnpm();
  const env = {
    ...process.env,
    PATH: [pnpmBin, join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
    TURBO_TELEMETRY_DISABLED: '1',
  };
  // Only this pnpm: a PNPM_HOME from the machine would point pnpm's own global bin elsewhere.
  delete env.PNPM_HOME;
  const status = run('pnpm', ['install', '--reporter=append-only'], { env });
  if (status !== 0) fail('pnpm install failed (see above).');

  if (then !== undefined) process.exit(run('npm', ['run', '--silent', then], { env }));
  if (exec !== undefined) process.exit(run(exec[0], exec.slice(1), { env }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
