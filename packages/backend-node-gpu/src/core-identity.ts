import * as tf from '@tensorflow/tfjs-core';

/** Whether a loaded tfjs package uses the same `@tensorflow/tfjs-core` as the app. */
export interface CoreIdentity {
  /** True when the loaded package's Tensor class and engine are the app's: one tfjs-core in the process. */
  readonly single: boolean;
  readonly appVersion: string;
  /** The loaded package's `version_core`, when it exports one. */
  readonly loadedVersion: string | undefined;
  readonly sameEngine: boolean;
  readonly sameTensorClass: boolean;
  /** What is wrong and how to fix it, when `single` is false. */
  readonly problem?: string;
}

interface TfLike {
  readonly version_core?: unknown;
  readonly Tensor?: unknown;
  engine?: () => unknown;
}

/**
 * Compares the tfjs-core a loaded package exports (tfjs-node re-exports all of `@tensorflow/tfjs`) with this process's.
 * Two copies share the global engine in tfjs 4 but not the Tensor class, so `instanceof tf.Tensor` fails across them and
 * kernels registered by one may not match the other's version: a silent source of wrong results.
 */
export function checkCoreIdentity(loaded: unknown, packageName: string): CoreIdentity {
  const m = (loaded ?? {}) as TfLike;
  const loadedVersion = typeof m.version_core === 'string' ? m.version_core : undefined;
  const sameTensorClass = m.Tensor === undefined || m.Tensor === tf.Tensor;
  const sameEngine = typeof m.engine !== 'function' || m.engine() === tf.engine();
  const sameVersion = loadedVersion === undefined || loadedVersion === tf.version_core;
  const single = sameTensorClass && sameEngine && sameVersion;
  return {
    single,
    appVersion: tf.version_core,
    loadedVersion,
    sameEngine,
    sameTensorClass,
    ...(single
      ? {}
      : {
          problem:
            `${packageName} loaded its own copy of @tensorflow/tfjs-core` +
            `${loadedVersion === undefined ? '' : ` ${loadedVersion}`} beside the app's ${tf.version_core}: ` +
            'two tfjs-core copies split tensors between two classes. Install the same version of every ' +
            '@tensorflow/* package and deduplicate (npm dedupe, or a pnpm/npm override for @tensorflow/tfjs-core).',
        }),
  };
}
