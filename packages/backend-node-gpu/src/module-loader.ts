import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What happened when a package was looked for and loaded. */
export type LoadResult =
  | { readonly status: 'loaded'; readonly module: unknown; readonly resolvedPath: string }
  | { readonly status: 'not-installed' }
  | { readonly status: 'load-failed'; readonly error: unknown; readonly resolvedPath: string };

/** Finds and loads an optional package. Injected in tests; the default resolves from the app's directory. */
export interface ModuleLoader {
  load(packageName: string): Promise<LoadResult>;
}

export interface ModuleLoaderOptions {
  /**
   * Directories to resolve packages from, first match wins. Default: the current working directory (the app), then
   * this adapter's own location (where a package manager links its optional peers).
   */
  readonly paths?: readonly string[];
}

function defaultPaths(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [process.cwd(), here];
}

/** The directory of `packageName` in the nearest `node_modules` from `dir` upward, as Node looks (NODE_PATH aside). */
function findPackageDir(packageName: string, dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', packageName);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * A loader that finds a package in the `node_modules` folders from each of `paths` upward, as Node does, and loads it
 * with `require`: tfjs-node is CommonJS, and `@tensorflow/tfjs-core`'s Node entry is CommonJS too, so an ESM app and
 * the loaded package share one tfjs-core instance. `NODE_PATH` is not consulted: package-manager shims set it to
 * folders of hoisted transitive dependencies, which are not the app's own install. Nothing is loaded until `load` is
 * called, so optional peers that are absent cost nothing.
 */
export function createModuleLoader(options: ModuleLoaderOptions = {}): ModuleLoader {
  const paths = [...(options.paths ?? defaultPaths())];
  return {
    async load(packageName) {
      let dir: string | undefined;
      for (const p of paths) {
        dir = findPackageDir(packageName, p);
        if (dir !== undefined) break;
      }
      if (dir === undefined) return { status: 'not-installed' };
      const require = createRequire(path.join(dir, 'package.json'));
      let resolvedPath = dir;
      try {
        resolvedPath = require.resolve(dir);
        return { status: 'loaded', module: require(resolvedPath) as unknown, resolvedPath };
      } catch (error) {
        return { status: 'load-failed', error, resolvedPath };
      }
    },
  };
}
