import * as tf from '@tensorflow/tfjs';

/** Which backend the live demo trains on, and why (what was tried before it). */
export interface BackendInfo {
  readonly name: string;
  /** Human-readable lines: the adapter found, each backend skipped and why. */
  readonly details: readonly string[];
}

/** Activates the best tfjs backend this browser has. */
export async function activateBackend(): Promise<BackendInfo> {
  await tf.ready();
  return { name: tf.getBackend(), details: ['tfjs default backend'] };
}
