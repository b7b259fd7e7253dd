/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, InvalidArgumentError, describeValue, activateRegisteredBackend, errorSummary } from '@gradguard/core';
import { registerStatsKernels } from './stats-kernels';

/** Backends `useWebGpuBackend` can activate; `'auto'` takes the best one available. */
export type WebBackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
type Named = Exclude<WebBackendChoice, 'auto'>;

export const WEB_BACKEND_CHOICES: readonly WebBackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** The npm package that provides each backend. */
export const WEB_BACKEND_PACKAGES: Readonly<Record<Named, string>> = {
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Imports a backend package (which registers the backend, as tfjs backends do on import). */
export type BackendLoader = () => Promise<unknown>;

export interface UseWebGpuBackendOptions {
  /** Which backend to activate. A named one rejects (code `BACKEND_UNAVAILABLE`) instead of falling back. Default `'auto'`. */
  readonly backend?: WebBackendChoice;
  /**
   * The WebGPU entry point. Default `navigator.gpu`. In Node pass `create([])` from the `webgpu` package (Dawn); it is
   * then installed as `navigator.gpu` for tfjs, which looks there.
   */
  readonly gpu?: GPU;
  /** Passed to `requestAdapter`. Default `'high-performance'`, as tfjs does. */
  readonly powerPreference?: GPUPowerPreference;
  /**
   * How to import each backend package. webgpu defaults to `import('@tensorflow/tfjs-backend-webgpu')`. The others
   * default to none: the backend is used if the app already registered it (`import '@tensorflow/tfjs'` registers webgl
   * and cpu in a browser); pass e.g. `{ wasm: () => import('@tensorflow/tfjs-backend-wasm') }` to add one lazily.
   */
  readonly loaders?: Partial<Record<Named, BackendLoader>>;
  /**
   * Sets tfjs's `WEBGPU_CPU_FORWARD` flag once the webgpu backend is loaded. tfjs defaults it to true, which runs small
   * ops on the CPU; set false to run every kernel on the GPU (what tests want). Default: leave tfjs's default.
   */
  readonly cpuForward?: boolean;
  /**
   * Registers gradguard's one-program statistics kernels (`registerStatsKernels`) when webgpu or webgl is activated, so
   * every variable's gradient statistics take 1–2 dispatches instead of ~16 stock kernels per variable shape. Default
   * true; false registers nothing (kernels registered earlier stay; `tf.unregisterKernel` removes them).
   */
  readonly statsKernels?: boolean;
}

/** What the WebGPU adapter says about itself (`GPUAdapter.info`). */
export interface WebGpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** A backend passed over, and why. */
export interface SkippedWebBackend {
  readonly backend: Named;
  readonly packageName: string;
  /**
   * `no-webgpu`: no `navigator.gpu`; `no-adapter`: `requestAdapter()` gave none; `unsupported`: the platform cannot run
   * it (WebGL outside a browser); `not-installed`/`load-failed`: importing the package failed; `not-registered`: no
   * backend of that name is registered; `init-failed`: `tf.setBackend` failed.
   */
  readonly reason: 'no-webgpu' | 'no-adapter' | 'unsupported' | 'not-installed' | 'load-failed' | 'not-registered' | 'init-failed';
  readonly detail: string;
  readonly error?: unknown;
}

export interface WebBackendReport {
  /** The active tfjs backend, `tf.getBackend()`. */
  readonly backend: string;
  readonly requested: WebBackendChoice;
  readonly skipped: readonly SkippedWebBackend[];
  /** The WebGPU adapter, whenever one was found (also when a later step failed). */
  readonly adapter?: WebGpuAdapterInfo;
  /** Things to know about the chosen backend (WebGL's 16-bit epsilon). */
  readonly notes: readonly string[];
  /** One line for a console. */
  readonly summary: string;
}


function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown })?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || error instanceof TypeError) &&
    errorSummary(error).includes(packageName)
  );
}


/** Makes `gpu` the `navigator.gpu` that tfjs-backend-webgpu reads (Node has no navigator before v21). */
function installNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu === gpu) return;
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}

async function readAdapterInfo(adapter: GPUAdapter): Promise<WebGpuAdapterInfo> {
  // `info` is the current spec; older browsers only have `requestAdapterInfo()`.
  const a = adapter as GPUAdapter & { info?: GPUAdapterInfo; requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  const info = a.info ?? (await a.requestAdapterInfo?.());
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

const DEFAULT_LOADERS: Partial<Record<Named, BackendLoader>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
};

/**
 * Activates TensorFlow.js on WebGPU where the platform has it, else WebGL, wasm, then cpu, and reports the adapter and
 * the reason for each fallback. It feature-detects `navigator.gpu`, asks for an adapter, and only then imports
 * `@tensorflow/tfjs-backend-webgpu` (which registers itself on import, with priority 3, when `navigator.gpu` exists).
 * In Node, pass `gpu: create([])` from the `webgpu` package (Dawn).
 *
 * @example
 * import '@tensorflow/tfjs';
 * const report = await useWebGpuBackend();
 * console.log(report.summary); // backend webgpu on google swiftshader (SwiftShader driver 5.0.0)
 */
export async function useWebGpuBackend(options: UseWebGpuBackendOptions = {}): Promise<WebBackendReport> {
  const requested = options.backend ?? 'auto';
  if (!WEB_BACKEND_CHOICES.includes(requested)) {
    throw new InvalidArgumentError(
      `useWebGpuBackend: backend must be one of ${WEB_BACKEND_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${describeValue(requested)}.`,
      "Use 'auto' to take the best available one; for tfjs-node use useNodeBackend() from @gradguard/backend-node-gpu.",
    );
  }
  const pp = options.powerPreference;
  if (pp !== undefined && pp !== 'low-power' && pp !== 'high-performance') {
    throw new InvalidArgumentError(
      `useWebGpuBackend: powerPreference must be 'low-power' or 'high-performance', got ${describeValue(pp)}.`,
    );
  }
  const loaders = { ...DEFAULT_LOADERS, ...options.loaders };
  const order: readonly Named[] = requested === 'auto' ? ['webgpu', 'webgl', 'wasm', 'cpu'] : [requested];
  const skipped: SkippedWebBackend[] = [];
  let adapter: WebGpuAdapterInfo | undefined;

  for (const backend of order) {
    const packageName = WEB_BACKEND_PACKAGES[backend];
    const skip = (reason: SkippedWebBackend['reason'], detail: string, error?: unknown): void => {
      skipped.push({ backend, packageName, reason, detail, ...(error === undefined ? {} : { error }) });
    };
    if (backend === 'webgpu') {
      const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      if (gpu == null) {
        skip(
          'no-webgpu',
          'navigator.gpu is undefined: this browser has no WebGPU (headless Chromium on Linux needs ' +
            '--enable-unsafe-webgpu; in Node pass `gpu: create([])` from the `webgpu` package).',
        );
        continue;
      }
      let gpuAdapter: GPUAdapter | null;
      try {
        gpuAdapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
      } catch (error) {
        skip('no-adapter', `navigator.gpu.requestAdapter() threw: ${errorSummary(error)}.`, error);
        continue;
      }
      if (gpuAdapter == null) {
        skip(
          'no-adapter',
          'navigator.gpu.requestAdapter() returned null: no usable GPU adapter (Chromium on Linux needs ' +
            '--enable-unsafe-webgpu; the driver may be blocklisted; in Node with the webgpu package, install a Vulkan ' +
            'driver, e.g. libvulkan1 and SwiftShader, and set VK_ICD_FILENAMES).',
        );
        continue;
      }
      adapter = await readAdapterInfo(gpuAdapter);
      if (typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') {
        skip(
          'unsupported',
          'the WebGPU constants (GPUBufferUsage, GPUMapMode...) are not globals, and tfjs-backend-webgpu needs them: ' +
            "in Node run Object.assign(globalThis, globals) with `globals` from the 'webgpu' package first.",
        );
        continue;
      }
      installNavigatorGpu(gpu);
    }
    if (backend === 'webgl' && typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined') {
      skip('unsupported', 'WebGL needs a browser (there is no document or OffscreenCanvas here).');
      continue;
    }
    if (tf.findBackendFactory(backend) == null) {
      const load = loaders[backend];
      if (load !== undefined) {
        try {
          await load();
        } catch (error) {
          if (isMissingPackage(error, packageName)) skip('not-installed', `${packageName} is not installed.`, error);
          else skip('load-failed', `${packageName} failed to load: ${errorSummary(error)}.`, error);
          continue;
        }
      }
      if (tf.findBackendFactory(backend) == null) {
        skip(
          'not-registered',
          load === undefined
            ? `the '${backend}' backend is not registered: import '${packageName}' in your app, or pass ` +
                `loaders.${backend}: () => import('${packageName}').`
            : `${packageName} loaded but registered no '${backend}' backend (it was imported before navigator.gpu ` +
                'existed, or against another copy of @tensorflow/tfjs-core).',
        );
        continue;
      }
    }
    if (backend === 'webgpu' && options.cpuForward !== undefined) tf.env().set('WEBGPU_CPU_FORWARD', options.cpuForward);
    const result = await activateRegisteredBackend(backend);
    if (!result.ok) {
      skip('init-failed', `${packageName} loaded but the '${backend}' backend failed to start: ${result.detail}.`, result.error);
      continue;
    }
    if ((backend === 'webgpu' || backend === 'webgl') && options.statsKernels !== false) registerStatsKernels();
    const notes: string[] = [];
    if (backend === 'webgl' && tf.backend().floatPrecision() === 16) {
      notes.push(
        'WebGL reports 16-bit float precision here, so tfjs uses epsilon 1e-4: pass Adam\'s epsilon explicitly, ' +
          'e.g. tf.train.adam(lr, 0.9, 0.999, 1e-7).',
      );
    }
    const done = { backend: tf.getBackend(), requested, skipped, ...(adapter ? { adapter } : {}), notes };
    return { ...done, summary: summarize(done) };
  }
  const last = order.at(-1)!;
  throw new GradguardError(
    'BACKEND_UNAVAILABLE',
    `The '${last}' backend is unavailable: ${skipped.map((s) => s.detail).join(' ')}`,
    requested === 'auto'
      ? `Import @tensorflow/tfjs (which registers cpu) before calling useWebGpuBackend().`
      : `Install and import ${WEB_BACKEND_PACKAGES[last]}@${tf.version_core}, or call useWebGpuBackend() without \`backend\` to fall back.`,
    skipped.find((s) => s.error !== undefined) ? { cause: skipped.find((s) => s.error !== undefined)!.error } : undefined,
  );
}

function summarize(r: Omit<WebBackendReport, 'summary'>): string {
  const on = r.backend === 'webgpu' && r.adapter ? ` on ${r.adapter.vendor} ${r.adapter.architecture} (${r.adapter.description})` : '';
  const skipped = r.skipped.length ? `; skipped: ${r.skipped.map((s) => `${s.backend}: ${s.detail}`).join(' ')}` : '';
  const notes = r.notes.length ? `; note: ${r.notes.join(' ')}` : '';
  return `backend ${r.backend}${on}${skipped}${notes}`;
}
