import { existsSync, readFileSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TfjsRedirect } from './tfjs-redirect-hooks';

/** The script's own TensorFlow.js: the files its `require`/`import` chain loads (real paths). */
export interface ScriptTfjs {
  readonly core: string;
  readonly layers: string;
  /** `@tensorflow/tfjs` (or tfjs-node's), when the script loads tfjs through the umbrella package. */
  readonly umbrella?: string;
}

const requireFrom = (from: string, id: string): string | undefined => {
  try {
    return nodeModule.createRequire(from).resolve(id);
  } catch {
    return undefined;
  }
};

/**
 * The folders of gradguard's own packages, as real paths ending in a separator: the CLI and every `@gradguard/*`
 * package it depends on, transitively, each found where its dependent finds it (npm's flat tree, pnpm's links).
 */
export function gradguardFolders(selfUrl: string): string[] {
  const start = requireFrom(selfUrl, 'gradguard/package.json');
  if (!start) throw new Error('gradguard run: cannot find the gradguard package around this file (its package.json).');
  const folders = new Set<string>();
  const queue = [start];
  for (let manifest = queue.shift(); manifest !== undefined; manifest = queue.shift()) {
    const folder = dirname(realpathSync(manifest));
    if (folders.has(folder)) continue;
    folders.add(folder);
    const deps = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      const next = name.startsWith('@gradguard/') ? (requireFrom(manifest, `${name}/package.json`) ?? packageJsonOf(requireFrom(manifest, name))) : undefined;
      if (next) queue.push(next);
    }
  }
  return [...folders].map((f) => f + sep);
}

/** The package.json above a package's entry file (for packages whose exports hide `./package.json`). */
function packageJsonOf(entry: string | undefined): string | undefined {
  for (let dir = entry && dirname(entry); dir && dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'package.json');
  }
  return undefined;
}

/** `major.minor.patch` of a tfjs package file's package.json (the nearest one above it). */
export function tfjsVersion(file: string): string {
  const manifest = packageJsonOf(file);
  return manifest ? String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version) : 'unknown';
}

/** Whether `version` satisfies a caret range `^a.b.c` (the form of gradguard's tfjs peer ranges); other ranges pass. */
export function satisfiesCaret(version: string, range: string): boolean {
  const want = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!want) return true;
  const have = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!have) return false;
  const [a, b] = [have.slice(1, 4).map(Number), want.slice(1, 4).map(Number)] as [number[], number[]];
  if (a[0] !== b[0]) return false;
  for (let i = 1; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/**
 * Makes gradguard's packages load the script's tfjs instead of their own copy, so the process has one tfjs-core
 * (one engine, one kernel and class registry: a guard built on another copy would not be restored by the script's
 * `tf.loadLayersModel`, and tfjs would warn about the platform twice). gradguard's packages are ES modules loaded
 * after this, so one resolve hook (`module.register`, Node ≥ 20.6) is enough: their `@tensorflow/*` imports resolve
 * from the script's tfjs-layers, its tfjs, then the script. Throws with the fix when the script's tfjs-core is outside
 * gradguard's peer range or Node cannot register hooks.
 */
export function redirectTfjsToScript(script: string, tfjs: ScriptTfjs, selfUrl: string, peerRange: string): void {
  const version = tfjsVersion(tfjs.core);
  if (!satisfiesCaret(version, peerRange)) {
    throw new Error(
      `gradguard run: the script loads @tensorflow/tfjs-core ${version} (${tfjs.core}); gradguard needs ${peerRange}. ` +
        `Upgrade the script's tfjs (npm install @tensorflow/tfjs@${peerRange}).`,
    );
  }
  const register = (nodeModule as { register?: typeof nodeModule.register }).register;
  if (typeof register !== 'function') {
    throw new Error(
      `gradguard run: the script loads its own @tensorflow/tfjs-core (${tfjs.core}) and Node ${process.versions.node} cannot redirect gradguard to it ` +
        '(module.register needs Node 20.6 or later). Use a newer Node, or install gradguard into the script\'s project (npm install --save-dev gradguard).',
    );
  }
  const data: TfjsRedirect = {
    from: gradguardFolders(selfUrl).map((f) => pathToFileURL(f).href.replace(/\/?$/, '/')),
    to: [tfjs.layers, ...(tfjs.umbrella ? [tfjs.umbrella] : []), script].map((f) => pathToFileURL(f).href),
  };
  register('./tfjs-redirect-hooks.js', selfUrl, { data });
}
