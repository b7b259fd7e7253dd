// Test fixtures: real package directories in a temporary node_modules, loaded through the real module loader. They
// reproduce the failure modes users meet (a package that is absent; one whose native binding fails to dlopen; one that
// brings its own tfjs-core) without installing tfjs-node, whose install downloads libtensorflow.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ModuleLoader, createModuleLoader } from './module-loader';

const here = createRequire(import.meta.url);

/** The real directory of an installed package (through pnpm's symlinks). */
export function packageDir(name: string, from: NodeJS.Require = here): string {
  return path.dirname(from.resolve(`${name}/package.json`));
}

export interface FakeModules {
  readonly root: string;
  /** Writes `node_modules/<name>/` with a package.json and the given files (relative paths to contents). */
  add(name: string, files: Record<string, string>): string;
  /** Links `node_modules/<name>` to the real installed package, as a package manager would. */
  link(name: string, target?: string): void;
  /**
   * A loader that resolves tfjs-node and tfjs-node-gpu ONLY from this fake node_modules (so a machine where they are
   * really installed runs the same scenario), likewise wasm and cpu when asked, and every other package from the real
   * workspace.
   */
  loader(fakeToo?: { wasm?: boolean; cpu?: boolean }): ModuleLoader;
  remove(): void;
}

export function fakeModules(): FakeModules {
  const root = mkdtempSync(path.join(tmpdir(), 'gradguard-backend-'));
  const nm = path.join(root, 'node_modules');
  mkdirSync(nm, { recursive: true });
  const fake = createModuleLoader({ paths: [root] });
  const real = createModuleLoader({ paths: [path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')] });
  return {
    root,
    add(name, files) {
      const dir = path.join(nm, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), text);
      }
      return dir;
    },
    link(name, target = packageDir(name)) {
      mkdirSync(path.dirname(path.join(nm, name)), { recursive: true });
      symlinkSync(target, path.join(nm, name), 'dir');
    },
    loader(fakeToo = {}) {
      const isFake = (name: string): boolean =>
        name.startsWith('@tensorflow/tfjs-node') ||
        (fakeToo.wasm === true && name === '@tensorflow/tfjs-backend-wasm') ||
        (fakeToo.cpu === true && name === '@tensorflow/tfjs-backend-cpu');
      return { load: (name) => (isFake(name) ? fake : real).load(name) };
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A stand-in for tfjs-node that works: it registers a `'tensorflow'` backend (priority 3, as tfjs-node does) backed by
 * the cpu kernels, and re-exports `@tensorflow/tfjs` as tfjs-node does. Exercises the load-and-activate path.
 */
export const WORKING_TFJS_NODE = `
const tf = require('@tensorflow/tfjs');
const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu');
if (!tf.findBackendFactory('tensorflow')) {
  tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!tf.getKernel(k.kernelName, 'tensorflow')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
  }
}
module.exports = tf;
`;

/** tfjs-node's entry requires its native binding; here the binding is not a shared object, so dlopen really fails. */
export const BROKEN_BINDING_INDEX = `module.exports = require('./lib/napi-v8/tfjs_binding.node');`;

/** Node's own error when a binding's shared-library dependency is missing, as with no CUDA runtime on the path. */
export const MISSING_CUDART_INDEX = `
const e = new Error(__dirname + '/lib/napi-v8/tfjs_binding.node: libcudart.so.11.0: cannot open shared object file: No such file or directory');
e.code = 'ERR_DLOPEN_FAILED';
throw e;
`;

/**
 * Writes a tfjs-node whose `node_modules` holds its OWN copy of tfjs-core (the real Node bundle, with its version
 * string changed to `version`), as npm does when versions do not match.
 */
export function addTfjsNodeWithOwnCore(mods: FakeModules, version: string): void {
  const coreDir = packageDir('@tensorflow/tfjs-core', createRequire(packageDir('@tensorflow/tfjs') + '/'));
  const bundle = readFileSync(path.join(coreDir, 'dist/tf-core.node.js'), 'utf8').replace(
    "var version = '4.22.0';",
    `var version = '${version}';`,
  );
  mods.add('@tensorflow/tfjs-node', {
    'index.js': `module.exports = require('@tensorflow/tfjs-core');`,
    'node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js': bundle,
    'node_modules/@tensorflow/tfjs-core/package.json': JSON.stringify({
      name: '@tensorflow/tfjs-core',
      version,
      main: 'dist/tf-core.node.js',
    }),
  });
}
