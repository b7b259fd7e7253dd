import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild, type Rollup } from 'vite';

/** The package root: entries resolve `@gradguard/*` and tfjs from its node_modules, as a user's app would. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A minified production bundle of one entry: its bytes and the modules that went into it. */
export interface Bundle {
  /** Minified bytes of every JavaScript chunk (the tfjs wasm/worker assets are not code and are not counted). */
  readonly bytes: number;
  /** Every module the bundler resolved, as absolute paths. */
  readonly modules: readonly string[];
}

/** A module's share of a minified esbuild bundle (esbuild reports bytes per input after minifying). */
export interface ModuleBytes {
  readonly module: string;
  readonly bytes: number;
}

/**
 * Builds `entry` (relative to the package root) the way a Vite app is built for production: browser platform, default
 * conditions (so `@gradguard/*` resolve to their published `dist`, not `src`), minified, no config file.
 */
export async function viteBundle(entry: string): Promise<Bundle> {
  const out = await viteBuild({
    root: ROOT,
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      modulePreload: false,
      rollupOptions: { input: `${ROOT}${entry}` },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as Rollup.RollupOutput[];
  const chunks = outputs.flatMap((o) => o.output).filter((o): o is Rollup.OutputChunk => o.type === 'chunk');
  return {
    bytes: chunks.reduce((sum, c) => sum + Buffer.byteLength(c.code), 0),
    modules: chunks.flatMap((c) => Object.keys(c.modules)),
  };
}

/**
 * The same entry bundled and minified by esbuild (browser, ESM), with each module's bytes in the output. With
 * `fromSource`, `@gradguard/*` resolve to their `src` (the `@gradguard/source` condition), so `byModule` names the source
 * file behind every byte; a published package's `dist` is one file and says only "mitigations".
 */
export async function esbuildBundle(entry: string, options: { fromSource?: boolean } = {}): Promise<Bundle & { readonly byModule: readonly ModuleBytes[] }> {
  const result = await esbuild({
    ...(options.fromSource ? { conditions: ['@gradguard/source'] } : {}),
    entryPoints: [`${ROOT}${entry}`],
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
  return {
    bytes: result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0), // one file: no splitting, no outdir
    modules: inputs.map(([path]) => `${ROOT}${path}`),
    byModule: inputs.map(([path, { bytesInOutput }]) => ({ module: path, bytes: bytesInOutput })),
  };
}

/** Module paths under a package directory `node_modules/<name>/` (pnpm's store included), e.g. `zod`. */
export function modulesOf(bundle: Bundle, name: string): string[] {
  return bundle.modules.filter((m) => m.replaceAll('\\', '/').includes(`/node_modules/${name}/`));
}

/**
 * Where the bytes of `added` came from that `base` does not have: per workspace package file and per npm package,
 * largest first. Printed when a budget is exceeded, so the failure names what grew.
 */
export function addedBytes(base: readonly ModuleBytes[], added: readonly ModuleBytes[]): string[] {
  const key = (m: string): string => {
    const path = m.replaceAll('\\', '/');
    const npm = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    return npm ? npm[1]! : path.replace(/^(\.\.\/)+/, '');
  };
  const sum = (list: readonly ModuleBytes[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const { module, bytes } of list) m.set(key(module), (m.get(key(module)) ?? 0) + bytes);
    return m;
  };
  const a = sum(base);
  return [...sum(added)]
    .map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const)
    .filter(([, d]) => d !== 0)
    .sort((x, y) => y[1] - x[1])
    .map(([k, d]) => `${d > 0 ? '+' : ''}${d} B  ${k}`);
}
