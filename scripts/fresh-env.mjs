#!/usr/bin/env node
// The environment a new user's machine gives: Node and npm, no pnpm (nor a corepack shim for it) on PATH, and a
// global npm prefix nobody has installed into. `.ci/run` runs the README's test command in it, so that set-up that
// leans on something this machine happened to have fails in CI instead of on a user's machine.
//
//   eval "$(node scripts/fresh-env.mjs)"     # prints `export …` lines for sh/bash
//
// Directories that hold a pnpm are dropped from PATH. When such a directory also holds node itself (a system-wide
// pnpm in /usr/bin), it cannot be dropped: a directory of stubs named pnpm/pnpx that fail loudly goes first instead.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const managers = ['pnpm', 'pnpx'];

/**
 * PATH and npm settings without any pnpm the machine has. Returns the variables to set and those to unset.
 * `scratch` is where the private npm prefix (and the stubs, when needed) are made.
 */
export function freshEnv(env = process.env, scratch = mkdtempSync(join(tmpdir(), 'gradguard-fresh-'))) {
  const nodeDir = dirname(process.execPath);
  const kept = [];
  let shadow = false;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const hasManager = managers.some((m) => existsSync(join(dir, m)));
    if (!hasManager) kept.push(dir);
    else if (dir === nodeDir || existsSync(join(dir, 'node'))) {
      kept.push(dir);
      shadow = true;
    }
  }
  if (shadow) {
    const stubs = join(scratch, 'no-global-pnpm');
    writeStubs(stubs);
    kept.unshift(stubs);
  }
  const prefix = join(scratch, 'npm-prefix');
  return {
    set: { PATH: kept.join(delimiter), NPM_CONFIG_PREFIX: prefix, npm_config_prefix: prefix, COREPACK_ENABLE_AUTO_PIN: '0' },
    unset: ['PNPM_HOME', 'PNPM_SCRIPT_SRC_DIR', 'npm_config_user_agent'],
  };
}

function writeStubs(dir) {
  mkdirSync(dir, { recursive: true });
  for (const m of managers) {
    const file = join(dir, m);
    writeFileSync(file, `#!/bin/sh\necho "fresh-env: the machine's own ${m} was called; set-up must bring its own (scripts/setup.mjs)" >&2\nexit 127\n`);
    chmodSync(file, 0o755);
  }
}

function shellQuote(value) {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { set, unset } = freshEnv();
  for (const [k, v] of Object.entries(set)) console.log(`export ${k}=${shellQuote(v)}`);
  for (const k of unset) console.log(`unset ${k}`);
}
