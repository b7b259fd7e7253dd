import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, describeValue, activateRegisteredBackend } from '@gradguard/core';
import { type CoreIdentity, checkCoreIdentity } from './core-identity';
import { BackendUnavailableError, type SkippedBackend, errorSummary } from './errors';
import { type GpuDevice, type GpuProbe, probeNvidiaGpus } from './gpu-probe';
import { type ModuleLoader, createModuleLoader } from './module-loader';

/** Backends `useNodeBackend` can activate; `'auto'` takes the best one available. */
export type NodeBackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Exported string constants, as tfjs keys its registries. */
export const NODE_BACKEND_CHOICES: readonly NodeBackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TFJS_BACKEND_WASM = '@tensorflow/tfjs-backend-wasm';
export const TFJS_BACKEND_CPU = '@tensorflow/tfjs-backend-cpu';

export interface UseNodeBackendOptions {
  /** Which backend to activate. A named one fails with `BackendUnavailableError` instead of falling back. Default `'auto'`. */
  readonly backend?: NodeBackendChoice;
  /**
   * With `backend: 'auto'`, the backends to try, best first. Default `['tensorflow', 'wasm', 'cpu']`; e.g.
   * `['wasm', 'cpu']` for a run that must be reproducible everywhere and never loads a native library.
   */
  readonly order?: readonly Exclude<NodeBackendChoice, 'auto'>[];
  /** Finds and loads the optional packages. Default: `createModuleLoader()` (from the app's directory). */
  readonly loader?: ModuleLoader;
  /** Says whether a CUDA GPU is visible. Default: `probeNvidiaGpus()`. */
  readonly probeGpu?: () => Promise<GpuProbe>;
  /** Throw when tfjs-node(-gpu) brings its own copy of `@tensorflow/tfjs-core`, instead of warning. Default false. */
  readonly strictCore?: boolean;
}

/** What `useNodeBackend` activated, and why nothing better was. */
export interface NodeBackendReport {
  /** The active tfjs backend, `tf.getBackend()`: `'tensorflow'`, `'wasm'` or `'cpu'`. */
  readonly backend: string;
  /** The package that provides it (`'@tensorflow/tfjs-node-gpu'`...). */
  readonly packageName: string;
  readonly requested: NodeBackendChoice;
  /** Every better option, in order, with the reason it was passed over. */
  readonly skipped: readonly SkippedBackend[];
  /** The GPUs in use, when the backend is tfjs-node-gpu. */
  readonly gpu?: { readonly devices: readonly GpuDevice[] };
  /** Whether the loaded tfjs-node(-gpu) shares this process's tfjs-core. */
  readonly core?: CoreIdentity;
  /** True when the app had already loaded tfjs-node(-gpu) itself and this call only activated it. */
  readonly preloaded?: boolean;
  /** Problems that did not stop activation (a second tfjs-core copy). */
  readonly warnings: readonly string[];
  /** One line for a console: `backend wasm (@tensorflow/tfjs-backend-wasm); skipped: ...`. */
  readonly summary: string;
}

interface Candidate {
  readonly backend: string;
  readonly packageName: string;
  readonly gpu: boolean;
}

const CANDIDATES: Readonly<Record<Exclude<NodeBackendChoice, 'auto'>, readonly Candidate[]>> = {
  tensorflow: [
    { backend: 'tensorflow', packageName: TFJS_NODE_GPU, gpu: true },
    { backend: 'tensorflow', packageName: TFJS_NODE, gpu: false },
  ],
  wasm: [{ backend: 'wasm', packageName: TFJS_BACKEND_WASM, gpu: false }],
  cpu: [{ backend: 'cpu', packageName: TFJS_BACKEND_CPU, gpu: false }],
};

function installHint(choice: Exclude<NodeBackendChoice, 'auto'>): string {
  const v = tf.version_core;
  switch (choice) {
    case 'tensorflow':
      return (
        `Install ${TFJS_NODE}@${v} (CPU) or ${TFJS_NODE_GPU}@${v} (Linux x64, CUDA 11.2 and cuDNN 8.1); their install ` +
        'script downloads libtensorflow, so if one is installed but fails to load, run `npm rebuild` on it, and for ' +
        'the GPU build put the CUDA libraries (libcudart, libcudnn) on LD_LIBRARY_PATH. Or call useNodeBackend() ' +
        'without `backend` to fall back to wasm or cpu.'
      );
    case 'wasm':
      return (
        `Install it: npm install ${TFJS_BACKEND_WASM}@${v} (the same version as @tensorflow/tfjs-core). Or call ` +
        'useNodeBackend() without `backend` to fall back to cpu.'
      );
    case 'cpu':
      return `Install it: npm install ${TFJS_BACKEND_CPU}@${v} (or @tensorflow/tfjs, which includes it).`;
  }
}


/**
 * Activates the best TensorFlow.js backend this Node process can run: `@tensorflow/tfjs-node-gpu` when a CUDA GPU is
 * visible, then `@tensorflow/tfjs-node` (both register as `'tensorflow'`), then `@tensorflow/tfjs-backend-wasm` (SIMD;
 * threads are off in Node), then `@tensorflow/tfjs-backend-cpu`. Each is an optional peer, loaded only when reached.
 * Like tfjs's own registry, nothing is imported until needed and the core never imports a backend.
 *
 * Resolves to a report of the chosen backend and why each better option was skipped. With `backend` set it activates
 * that one or rejects with `BackendUnavailableError` naming the missing package and the fix.
 *
 * @example
 * import '@tensorflow/tfjs';
 * const report = await useNodeBackend();
 * console.log(report.summary); // backend wasm (@tensorflow/tfjs-backend-wasm); skipped: ...
 */
export async function useNodeBackend(options: UseNodeBackendOptions = {}): Promise<NodeBackendReport> {
  const requested = options.backend ?? 'auto';
  if (!NODE_BACKEND_CHOICES.includes(requested)) {
    throw new InvalidArgumentError(
      `useNodeBackend: backend must be one of ${NODE_BACKEND_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${describeValue(requested)}.`,
      "Use 'auto' to take the best available one; for WebGPU use useWebGpuBackend() from @gradguard/backend-webgpu.",
    );
  }
  const loader = options.loader ?? createModuleLoader();
  const probeGpu = options.probeGpu ?? (() => probeNvidiaGpus());
  if (options.order !== undefined) {
    const bad = Array.isArray(options.order)
      ? options.order.find((o) => o === 'auto' || !NODE_BACKEND_CHOICES.includes(o))
      : options.order;
    if (requested !== 'auto' || !Array.isArray(options.order) || options.order.length === 0 || bad !== undefined) {
      throw new InvalidArgumentError(
        `useNodeBackend: order must be a non-empty list of 'tensorflow', 'wasm', 'cpu' used with backend 'auto', ` +
          `got ${bad === undefined ? describeValue(options.order) : describeValue(bad)}` +
          `${requested === 'auto' ? '' : ` with backend '${requested}'`}.`,
        'Pass either `backend` (one backend, no fallback) or `order` (fallbacks in that order).',
      );
    }
  }
  const order: readonly Exclude<NodeBackendChoice, 'auto'>[] =
    requested === 'auto' ? (options.order ?? ['tensorflow', 'wasm', 'cpu']) : [requested];
  const skipped: SkippedBackend[] = [];
  const warnings: string[] = [];
  // Decided once: a 'tensorflow' backend registered during this call (a GPU build that then failed to start) is not
  // the app's.
  const appLoadedTensorflow = tf.findBackendFactory('tensorflow') != null;

  for (const choice of order) {
    const attempts: SkippedBackend[] = [];
    const candidates =
      choice === 'tensorflow' && appLoadedTensorflow
        ? // The app already loaded tfjs-node(-gpu) (`import '@tensorflow/tfjs-node'`): use it; loading the other
          // build too would put two libtensorflow builds in one process.
          CANDIDATES.tensorflow.filter((c) => c.packageName === tensorflowLoadedByApp())
        : CANDIDATES[choice];
    for (const c of candidates) {
      const skip = (reason: SkippedBackend['reason'], detail: string, error?: unknown): void => {
        attempts.push({ backend: c.backend, packageName: c.packageName, reason, detail, ...(error === undefined ? {} : { error }) });
      };
      const preloaded = c.backend === 'tensorflow' && appLoadedTensorflow;
      let gpu: GpuProbe | undefined;
      if (c.gpu) {
        gpu = await probeGpu();
        if (!gpu.visible && !preloaded) {
          skip('no-gpu', `${c.packageName} was not tried: no GPU is visible (${gpu.reason}).`);
          continue;
        }
      }
      // A backend the app already registered (e.g. cpu through `import '@tensorflow/tfjs'`) needs no package load.
      let core: CoreIdentity | undefined;
      if (!preloaded && (c.backend === 'tensorflow' || tf.findBackendFactory(c.backend) == null)) {
        const loaded = await loader.load(c.packageName);
        if (loaded.status === 'not-installed') {
          skip('not-installed', `${c.packageName} is not installed.`);
          continue;
        }
        if (loaded.status === 'load-failed') {
          skip('load-failed', `${c.packageName} failed to load: ${errorSummary(loaded.error)}.`, loaded.error);
          continue;
        }
        if (c.backend === 'tensorflow') {
          core = checkCoreIdentity(loaded.module, c.packageName);
          if (!core.single) {
            if (options.strictCore) {
              skip('load-failed', core.problem!);
              continue;
            }
            warnings.push(core.problem!);
          }
        }
        if (tf.findBackendFactory(c.backend) == null) {
          skip('not-registered', `${c.packageName} loaded but registered no '${c.backend}' backend with this tfjs-core.`);
          continue;
        }
      }
      const result = await activateRegisteredBackend(c.backend);
      if (!result.ok) {
        // Unregister what this failed build registered, so the next build (tfjs-node after tfjs-node-gpu) can register.
        if (c.backend === 'tensorflow' && !preloaded) tf.removeBackend('tensorflow');
        skip('init-failed', `${c.packageName} loaded but the '${c.backend}' backend failed to start: ${result.detail}.`, result.error);
        continue;
      }
      skipped.push(...attempts);
      const report = {
        backend: tf.getBackend(),
        packageName: c.packageName,
        requested,
        skipped,
        ...(gpu?.visible ? { gpu: { devices: gpu.devices } } : {}),
        ...(preloaded ? { preloaded: true } : {}),
        ...(core ? { core } : {}),
        warnings,
      };
      return { ...report, summary: summarize(report) };
    }
    if (requested !== 'auto') {
      throw new BackendUnavailableError(choice, CANDIDATES[choice].at(-1)!.packageName, attempts, installHint(choice));
    }
    skipped.push(...attempts);
  }
  const last = order.at(-1)!;
  throw new BackendUnavailableError(last, CANDIDATES[last].at(-1)!.packageName, skipped, installHint(last));
}

/** Which tfjs-node build the app loaded itself, from the CommonJS module cache (tfjs-node is CommonJS). */
function tensorflowLoadedByApp(): string {
  const cache = createRequire(import.meta.url).cache;
  const gpu = Object.keys(cache).some((p) => p.includes(`${path.sep}tfjs-node-gpu${path.sep}`));
  return gpu ? TFJS_NODE_GPU : TFJS_NODE;
}

function summarize(r: Omit<NodeBackendReport, 'summary'>): string {
  const gpu = r.gpu ? ` on ${r.gpu.devices.map((d) => `${d.name} (${d.memoryMiB} MiB)`).join(', ')}` : '';
  const skipped = r.skipped.length ? `; skipped: ${r.skipped.map((s) => s.detail).join(' ')}` : '';
  const warn = r.warnings.length ? `; warning: ${r.warnings.join(' ')}` : '';
  return `backend ${r.backend} (${r.packageName})${gpu}${skipped}${warn}`;
}
