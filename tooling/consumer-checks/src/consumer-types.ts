import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './bundle';

const run = promisify(execFile);
const REPO = join(ROOT, '../..');

/** Entry points that need Node (its built-ins and `@types/node`): checked by the Node consumer, not the browser one. */
export const NODE_ONLY_ENTRIES = ['@gradguard/reporter/node', '@gradguard/backend-node-gpu'] as const;

/** Whether an `exports` target declares types: a `types` condition anywhere in it, or a `.d.ts` beside its file. */
function hasTypes(target: unknown, dir: string): boolean {
  if (typeof target === 'string') {
    const dts = target.replace(/\.(c|m)?js$/, (_, k: string | undefined) => `.d.${k ?? ''}ts`);
    return dts !== target && existsSync(join(dir, dts));
  }
  if (typeof target !== 'object' || target === null) return false;
  return Object.entries(target).some(([k, v]) => k === 'types' || hasTypes(v, dir));
}

/**
 * Every entry point a user can import: each public workspace package's `exports` keys (but `./package.json`), read
 * from the package.json files, so a new package or subpath is checked without editing this list. Entries that declare
 * no types (a side-effect entry such as the CLI's `gradguard/register`, meant for `node --import`) are listed in
 * `untyped`: there is nothing in them to check.
 */
export function publishedEntries(): { typed: string[]; untyped: string[] } {
  const typed: string[] = [];
  const untyped: string[] = [];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(REPO, group))) {
      let pkg: { name: string; private?: boolean; exports?: Record<string, unknown> };
      try {
        pkg = JSON.parse(readFileSync(join(REPO, group, dir, 'package.json'), 'utf8')) as typeof pkg;
      } catch {
        continue;
      }
      if (pkg.private || !pkg.exports) continue;
      for (const [key, target] of Object.entries(pkg.exports)) {
        if (key === './package.json') continue;
        const entry = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
        (hasTypes(target, join(REPO, group, dir)) ? typed : untyped).push(entry);
      }
    }
  }
  return { typed: typed.sort(), untyped: untyped.sort() };
}

/** One `tsc` error: the file (real path), its code and message. */
export interface TypeError {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

/** A consumer program and what tsc said about it. */
export interface ConsumerCheck {
  readonly name: string;
  readonly errors: readonly TypeError[];
}

/**
 * A `.d.ts` every consumer program also imports, holding the very declaration that broke core's types (TS1170): the
 * check must report it, which proves the libraries' declarations are really type-checked (no skipLibCheck).
 */
export const CANARY = 'gradguard-consumer-canary';
const CANARY_DTS = "export declare const canary: { [-Infinity]: '-Infinity' };\n";

const strict = { strict: true, skipLibCheck: false, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'] };

/**
 * Writes consumer projects into a temporary folder inside this package (so `@gradguard/*` and tfjs resolve through
 * its node_modules to the built packages) and runs TypeScript on them, without skipLibCheck, under `strict`:
 * - `node16`: every entry from an ES module (`.mts`, the `import` condition and `.d.ts`) and from CommonJS (`.cts`,
 *   the `require` condition and `.d.cts`), with `@types/node`;
 * - `bundler`: every entry but the Node-only ones, as a browser app resolves them, without `@types/node`.
 */
export async function checkConsumerTypes(entries: readonly string[]): Promise<ConsumerCheck[]> {
  const dir = mkdtempSync(join(ROOT, '.consumer-'));
  try {
    const canary = join(dir, 'node_modules', CANARY);
    mkdirSync(canary, { recursive: true });
    writeFileSync(join(canary, 'package.json'), JSON.stringify({ name: CANARY, version: '0.0.0', types: 'index.d.ts' }));
    writeFileSync(join(canary, 'index.d.ts'), CANARY_DTS);

    const source = (list: readonly string[]): string =>
      [CANARY, ...list].map((e, i) => `import * as m${i} from '${e}';\n`).join('') +
      `export const all = [${[CANARY, ...list].map((_, i) => `m${i}`).join(', ')}];\n`;
    const browser = entries.filter((e) => !(NODE_ONLY_ENTRIES as readonly string[]).includes(e));
    const programs = {
      node16: {
        files: { 'node16/esm.mts': source(entries), 'node16/cjs.cts': source(entries) },
        options: { ...strict, module: 'node16', moduleResolution: 'node16', types: ['node'] },
      },
      bundler: {
        files: { 'bundler/app.ts': source(browser) },
        options: { ...strict, module: 'esnext', moduleResolution: 'bundler', types: [] },
      },
    };
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    return await Promise.all(
      Object.entries(programs).map(async ([name, { files, options }]) => {
        mkdirSync(join(dir, name));
        for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
        const config = join(dir, name, 'tsconfig.json');
        writeFileSync(config, JSON.stringify({ compilerOptions: options, files: Object.keys(files).map((f) => `../${f}`) }));
        const out = await run(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: join(dir, name), maxBuffer: 1 << 26 }).then(
          (r) => r.stdout,
          (e: { stdout?: string }) => e.stdout ?? '',
        );
        return { name, errors: parseErrors(out, join(dir, name)) };
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseErrors(out: string, cwd: string): TypeError[] {
  const errors: TypeError[] = [];
  for (const line of out.split('\n')) {
    const m = /^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(line);
    if (!m) continue;
    let file = join(cwd, m[1]!);
    try {
      file = realpathSync(file);
    } catch {
      // a file tsc names but that is gone: keep the path as printed
    }
    errors.push({ file: file.replaceAll('\\', '/'), code: m[2]!, message: m[3]! });
  }
  return errors;
}
