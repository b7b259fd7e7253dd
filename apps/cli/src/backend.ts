import * as tf from '@tensorflow/tfjs';
import { UsageError } from './errors';

export const BACKENDS = ['auto', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendReport {
  readonly name: string;
  readonly skipped: readonly string[];
}

/**
 * Activates a tfjs backend for the CLI. `auto` is the default that works on every machine: wasm (SIMD; the fastest
 * backend in Node without tfjs-node), falling back to cpu.
 */
export async function activateBackend(choice: string): Promise<BackendReport> {
  if (!(BACKENDS as readonly string[]).includes(choice)) {
    throw new UsageError(`unknown backend ${JSON.stringify(choice)}.`, `Use one of: ${BACKENDS.join(', ')}.`);
  }
  const skipped: string[] = [];
  if (choice === 'auto' || choice === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { name: 'wasm', skipped };
      }
      skipped.push('wasm: failed to initialize');
    } catch (e) {
      skipped.push(`wasm: ${(e as Error).message}`);
    }
    if (choice === 'wasm') throw new UsageError(`the wasm backend is not available (${skipped.join('; ')}).`, 'Install @tensorflow/tfjs-backend-wasm or use --backend cpu.');
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', skipped };
}
