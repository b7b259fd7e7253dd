import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, describeValue } from '@gradguard/core';
import { type GradientTransformation, type TensorMap, type TransformState, disposeNew } from './transformation';

export interface ChainState extends TransformState {
  readonly transform: 'chain';
  /** The names of the chained transformations, in order; checked against the chain on every update. */
  readonly names: readonly string[];
  readonly states: readonly TransformState[];
  /** When two or more stages can veto the update, the AND of their `shouldApply` masks (owned by this state). */
  readonly apply?: tf.Tensor;
}

/**
 * Composes transformations left to right, like `optax.chain`: the gradients flow through each `update` in turn and
 * the state is the tuple of their states. Intermediate gradient tensors are disposed as soon as the next stage has
 * consumed them.
 */
export function chain(...transforms: GradientTransformation[]): GradientTransformation<ChainState> {
  transforms.forEach((t, i) => {
    if (t == null || typeof t.init !== 'function' || typeof t.update !== 'function') {
      throw new GradguardError(
        'INVALID_ARGUMENT',
        `chain: argument ${i} is ${describeValue(t)}, not a gradient transformation.`,
        'Pass transformations made by the factories of @gradguard/mitigations, e.g. chain(skipNonFinite(), clipByGlobalNorm(1)).',
      );
    }
  });
  const names = transforms.map((t) => t.name);
  const vetoes = transforms.map((t, i) => (t.shouldApply ? i : -1)).filter((i) => i >= 0);
  const probing = transforms.some((t) => t.probe);
  const chained: GradientTransformation<ChainState> = {
    name: 'chain',
    init(params) {
      return { transform: 'chain', names, states: transforms.map((t) => t.init(params)) };
    },
    update(grads, state, params) {
      checkChainState(state, names);
      let current: TensorMap = grads;
      const next: TransformState[] = [];
      for (let i = 0; i < transforms.length; i++) {
        const [out, s] = transforms[i]!.update(current, state.states[i]!, params);
        if (current !== grads) disposeNew(current, grads, out);
        current = out;
        next.push(s);
      }
      state.apply?.dispose();
      if (vetoes.length < 2) return [current, { transform: 'chain', names, states: next }];
      const masks = vetoes.map((i) => transforms[i]!.shouldApply!(next[i]!)).filter((m) => m !== undefined);
      const apply = tf.keep(tf.tidy(() => masks.reduce((a, b) => tf.logicalAnd(a, b))));
      return [current, { transform: 'chain', names, states: next, apply }];
    },
  };
  if (vetoes.length > 0) {
    chained.shouldApply = (state) =>
      vetoes.length === 1 ? transforms[vetoes[0]!]!.shouldApply!(state.states[vetoes[0]!]!) : state.apply;
  }
  if (probing) {
    // Keys are prefixed with the stage index so that two stages of the same kind never collide.
    chained.probe = (state) => {
      const out: Record<string, tf.Tensor> = {};
      transforms.forEach((t, i) => {
        if (!t.probe) return;
        for (const [k, v] of Object.entries(t.probe(state.states[i]!))) out[`${i}:${k}`] = v;
      });
      return out;
    };
    chained.check = (values, step) => {
      for (let i = 0; i < transforms.length; i++) {
        const t = transforms[i]!;
        if (!t.check) continue;
        const own: Record<string, number> = {};
        for (const [k, v] of Object.entries(values)) if (k.startsWith(`${i}:`)) own[k.slice(`${i}:`.length)] = v;
        const e = t.check(own, step);
        if (e) return e;
      }
      return undefined;
    };
  }
  if (transforms.some((t) => t.afterApply)) {
    chained.afterApply = (params, state, context) => {
      transforms.forEach((t, i) => t.afterApply?.(params, state.states[i]!, context));
    };
  }
  return chained;
}

function checkChainState(state: unknown, names: readonly string[]): asserts state is ChainState {
  const s = state as Partial<ChainState> | undefined;
  const fix = 'Create the state with the same chain: `const state = chained.init(params)`, and pass back the state `update` returned.';
  if (s?.transform !== 'chain' || !Array.isArray(s.states)) {
    throw new GradguardError(
      'STATE_MISMATCH',
      `chain: expected the state made by this chain's init, got ${s?.transform ? `the state of "${s.transform}"` : describeValue(state)}.`,
      fix,
    );
  }
  const got = s.states.map((x) => (x as TransformState | undefined)?.transform ?? describeValue(x));
  if (got.length !== names.length || got.some((n, i) => n !== names[i])) {
    throw new GradguardError(
      'STATE_MISMATCH',
      `chain: the state holds [${got.join(', ')}] but the chain is [${names.join(', ')}].`,
      fix,
    );
  }
}
