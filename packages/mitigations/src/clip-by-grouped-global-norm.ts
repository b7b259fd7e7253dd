import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, checkNumber, checkOptions, describeValue } from '@gradguard/core';
import type { EmptyState, GradientTransformation, TensorMap } from './transformation';

/** One group of variables: those whose name `match` accepts, with its own bound (default: the factory's `maxNorm`). */
export interface NormGroup {
  readonly match: RegExp | ((variableName: string) => boolean);
  readonly maxNorm?: number;
}

export interface ClipByGroupedGlobalNormOptions {
  /**
   * How variables are grouped. A function returns each variable's group key (every key gets `maxNorm`). A list of
   * groups: a variable joins the first group that matches it; the variables no group matches form one more group,
   * bounded by `maxNorm`. Variable names are the keys of the gradient map (`dense_Dense1/kernel`): they depend on
   * what the process created before, so match on the part you named (`/^embedding/`), or group by a function of
   * your own variables.
   */
  readonly groups: ((variableName: string) => string) | readonly NormGroup[];
}

/**
 * Global-norm clipping per group: each group of variables is scaled by `maxNorm_g / max(‖g_group‖, maxNorm_g)`, its
 * own global norm against its own bound, so that one tensor with a huge norm (an embedding, an output layer) no longer
 * shrinks the update of every other layer — the clip starvation reported for global clipping (Megatron-LM issue
 * #5394). With one group holding every variable it is `clipByGlobalNorm`; with one group per variable, `clipByNorm`.
 *
 * A NaN or Infinity poisons its own group only (as `clipByGlobalNorm` does for all): put `skipNonFinite()` first.
 * Inside `guard` on cpu, wasm and tfjs-node the group norms come from the step's statistics pass (a group under its
 * bound costs nothing); elsewhere they are computed on the device.
 */
export function clipByGroupedGlobalNorm(maxNorm: number, options: ClipByGroupedGlobalNormOptions): GradientTransformation<EmptyState> {
  const where = 'clipByGroupedGlobalNorm';
  checkNumber(where, 'maxNorm', maxNorm, { exclusiveMin: 0 });
  checkOptions(where, options, ['groups']);
  const groups = options?.groups;
  const fix = 'Pass groups: (name) => key, or a list like [{ match: /^embedding/ }, { match: /head/, maxNorm: 5 }].';
  if (typeof groups !== 'function' && !Array.isArray(groups)) {
    throw new GradguardError('INVALID_ARGUMENT', `${where}: groups must be a function or a list of groups, got ${describeValue(groups)}.`, fix);
  }
  if (Array.isArray(groups)) {
    groups.forEach((g: NormGroup, i) => {
      if (!(g?.match instanceof RegExp) && typeof g?.match !== 'function') {
        throw new GradguardError('INVALID_ARGUMENT', `${where}: groups[${i}].match must be a RegExp or a function, got ${describeValue(g?.match)}.`, fix);
      }
      if (g.maxNorm !== undefined) checkNumber(where, `groups[${i}].maxNorm`, g.maxNorm, { exclusiveMin: 0 });
    });
  }
  /** The variables' partition into [bound, names] groups, remembered for the last set of names. */
  let cached: { key: string; parts: readonly (readonly [number, readonly string[]])[] } | undefined;
  const partition = (names: readonly string[]): readonly (readonly [number, readonly string[]])[] => {
    const key = names.join('\u0000');
    if (cached?.key === key) return cached.parts;
    const byKey = new Map<string, [number, string[]]>();
    for (const n of names) {
      let k: string;
      let bound = maxNorm;
      if (typeof groups === 'function') k = `f:${groups(n)}`;
      else {
        const i = groups.findIndex((g) => (g.match instanceof RegExp ? new RegExp(g.match.source, g.match.flags.replace('g', '')).test(n) : g.match(n)));
        k = `l:${i}`;
        if (i >= 0) bound = groups[i]!.maxNorm ?? maxNorm;
      }
      const entry = byKey.get(k) ?? [bound, []];
      entry[1].push(n);
      byKey.set(k, entry);
    }
    cached = { key, parts: [...byKey.values()] };
    return cached.parts;
  };
  return {
    name: where,
    init: () => ({ transform: where }),
    update(grads, state, _params, context) {
      const names = Object.keys(grads);
      const parts = partition(names);
      const out: TensorMap = { ...grads };
      for (const [bound, members] of parts) {
        let sq: number | undefined = 0;
        for (const n of members) {
          const f = context?.facts(grads[n]!);
          if (f === undefined) {
            sq = undefined;
            break;
          }
          sq += f.sq;
        }
        if (sq !== undefined) {
          const factor = bound / Math.max(Math.sqrt(sq), bound); // NaN stays NaN, as on the device
          if (factor === 1) continue;
          const f = tf.scalar(factor);
          for (const n of members) {
            out[n] = tf.mul(grads[n]!, f);
            context!.derive(out[n]!, grads[n]!, factor);
          }
          f.dispose();
          continue;
        }
        const scaled = tf.tidy(() => {
          const total = tf.addN(members.map((n) => tf.sum(tf.square(grads[n]!))));
          const factor = tf.div(bound, tf.maximum(tf.sqrt(total), bound));
          return members.map((n) => tf.mul(grads[n]!, factor));
        });
        members.forEach((n, i) => (out[n] = scaled[i]!));
      }
      return [out, state];
    },
  };
}
