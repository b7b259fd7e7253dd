import * as tf from '@tensorflow/tfjs-core';

/** Shortest useful text of a thrown value: its message's first line, plus its code when it has one. */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const first = error.message.split('\n')[0] ?? '';
    return typeof code === 'string' && !first.includes(code) ? `${first} (${code})` : first;
  }
  return String(error);
}

/** What activating a registered backend came to: ready, or why not. */
export type ActivationResult = { readonly ok: true } | { readonly ok: false; readonly detail: string; readonly error?: unknown };

/**
 * Runs `tf.setBackend(name)` and `tf.ready()`, capturing what tfjs logs when a backend fails to initialise (it warns
 * and returns false instead of throwing), so an adapter can report the reason. For the backend adapters: core itself
 * never picks a backend.
 */
export async function activateRegisteredBackend(name: string): Promise<ActivationResult> {
  const logged: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    logged.push(args.map(String).join(' '));
  };
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return { ok: false, detail: logged.join(' | ') || 'tf.setBackend returned false' };
    await tf.ready();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: errorSummary(error), error };
  } finally {
    console.warn = warn;
  }
}
