import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors';

export const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendReport {
  /** The active tfjs backend (`tf.getBackend()`). */
  readonly name: string;
  /** One line: what was chosen and why better options were skipped. */
  readonly summary: string;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Activates the tfjs backend the user chose, through the gradguard adapters. `auto` (the default) takes the best one
 * available: tfjs-node-gpu / tfjs-node when installed, else wasm (the fastest backend in plain Node), else cpu — so
 * the CLI works on every machine. A named backend that is unavailable is an error (exit 2) naming the missing package.
 */
export async function activateBackend(choice: string): Promise<BackendReport> {
  if (!(BACKENDS as readonly string[]).includes(choice)) {
    throw new UsageError(`unknown backend ${JSON.stringify(choice)}.`, `Use one of: ${BACKENDS.join(', ')}.`);
  }
  // Loaded here, not at the top: only the commands that train start a tfjs engine (`--help` and `diagnose` never do).
  const { createModuleLoader, useNodeBackend } = await import('@gradguard/backend-node-gpu');
  // Optional packages resolve from the CLI's own install first (its dependencies), then from the working directory.
  const loader = createModuleLoader({ paths: [dirname(fileURLToPath(import.meta.url)), process.cwd()] });
  if (choice === 'webgpu') return activateWebGpu();
  const r = await useNodeBackend(
    choice === 'auto' ? { order: ['tensorflow', 'wasm', 'cpu'], loader } : { backend: choice as Exclude<BackendChoice, 'auto' | 'webgpu'>, loader },
  );
  return { name: r.backend, summary: r.summary };
}

/** WebGPU in Node through Dawn (the optional `webgpu` package); on a machine without a GPU, SwiftShader's Vulkan. */
async function activateWebGpu(): Promise<BackendReport> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  let gpu: unknown;
  try {
    const dawn = (await import('webgpu')) as { create(flags: string[]): unknown; globals: object };
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]);
  } catch (e) {
    throw new UsageError(
      `--backend webgpu needs the npm package "webgpu" (Dawn for Node), which failed to load: ${(e as Error).message.split('\n')[0]}`,
      'Install it (npm i webgpu) and libvulkan1 (apt-get install libvulkan1), or use --backend auto.',
    );
  }
  const { useWebGpuBackend } = await import('@gradguard/backend-webgpu');
  const r = await useWebGpuBackend({ backend: 'webgpu', gpu: gpu as GPU });
  return { name: r.backend, summary: r.summary };
}
