import { GradguardError } from '@gradguard/core';

/** One backend the adapter considered and did not activate, and why. */
export interface SkippedBackend {
  /** The tfjs backend name (`'tensorflow'`, `'wasm'`, `'cpu'`...). */
  readonly backend: string;
  /** The npm package that provides it. */
  readonly packageName: string;
  /**
   * `not-installed`: the package cannot be resolved; `load-failed`: importing it threw (a missing native library, a
   * broken install); `init-failed`: it loaded but `tf.setBackend` failed; `no-gpu`: no GPU device is visible, so the GPU
   * build was not tried; `not-registered`: the package loaded but registered no backend of that name.
   */
  readonly reason: 'not-installed' | 'load-failed' | 'init-failed' | 'no-gpu' | 'not-registered';
  /** One sentence a person can act on, naming the package and the fix. */
  readonly detail: string;
  /** The error that was thrown, when there was one. */
  readonly error?: unknown;
}

/**
 * A backend that was asked for by name cannot be activated. `message` names the missing package and how to fix it;
 * `attempts` lists what was tried.
 */
export class BackendUnavailableError extends GradguardError {
  readonly backend: string;
  readonly packageName: string;
  readonly attempts: readonly SkippedBackend[];

  constructor(backend: string, packageName: string, attempts: readonly SkippedBackend[], hint: string) {
    const why = attempts.map((a) => a.detail).join(' ');
    super(
      'BACKEND_UNAVAILABLE',
      `The '${backend}' backend is unavailable: ${why}`,
      hint,
      attempts.find((a) => a.error !== undefined)?.error === undefined
        ? undefined
        : { cause: attempts.find((a) => a.error !== undefined)!.error },
    );
    this.name = 'BackendUnavailableError';
    this.backend = backend;
    this.packageName = packageName;
    this.attempts = attempts;
  }
}

export { errorSummary } from '@gradguard/core';
