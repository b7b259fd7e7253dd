// Loaded by `module.register` into Node's module-hooks thread (see tfjs-redirect.ts): the `@tensorflow/*` imports that
// gradguard's own packages make resolve as if the script's tfjs had made them, so one tfjs-core serves the process.
import type { InitializeHook, ResolveHook } from 'node:module';

/** What the main thread hands this thread (plain data: it crosses a thread). */
export interface TfjsRedirect {
  /** `file:` URLs, each ending in `/`, of gradguard's package folders: imports made from files below them are redirected. */
  readonly from: readonly string[];
  /** `file:` URLs of files to resolve those imports from instead, in order: the script's tfjs-layers, its tfjs, the script. */
  readonly to: readonly string[];
}

let redirect: TfjsRedirect = { from: [], to: [] };

export const initialize: InitializeHook<TfjsRedirect> = (data) => {
  redirect = data;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const parent = context.parentURL;
  if (!specifier.startsWith('@tensorflow/') || parent === undefined || !redirect.from.some((dir) => parent.startsWith(dir))) {
    return nextResolve(specifier, context);
  }
  // The script's tfjs-layers resolves tfjs-core exactly as the script's model code does; a package it cannot see (the
  // tfjs umbrella itself, a backend) is looked up from the script's tfjs, then from the script.
  let failure: unknown;
  for (const parentURL of redirect.to) {
    try {
      return await nextResolve(specifier, { ...context, parentURL });
    } catch (e) {
      failure = e;
    }
  }
  throw failure;
};
