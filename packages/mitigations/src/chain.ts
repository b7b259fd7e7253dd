import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, describeValue } from '@gradguard/core';
import { type GradientTransformation, type TensorMap, type TransformState, disposeNew } from './transformation';

type Mask = tf.Tensor | boolean | undefined;

export interface ChainState extends TransformState {
  readonly transform: 'chain';
  /** The names of the chained transformations, in order; checked against the chain on every update. */
  readonly names: readonly string[];
  readonly states: readonly TransformState[];
  /**
   * When two or more stages can veto the update, the AND of their `shouldApply` answers: a boolean when every answer
   * was decided on the host (or one of them said false), else a device mask owned by this state.
   */
  readonly apply?: tf.Tensor | boolean;
}

/**
 * Composes transformations left to right, like `optax.chain`: the gradients flow through each `update` in turn and
 * the state is the tuple of their states. Intermediate gradient tensors are disposed as soon as the next stage has
 * consumed them. A stage that decides on the host that the step must not happen (`shouldApply` is `false`) ends the
 * chain for that step: the later stages keep their states, as for a step that never was.
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
    update(grads, state, params, context) {
      checkChainState(state, names);
      let current: TensorMap = grads;
      const next: TransformState[] = [];
      let vetoed = false;
      for (let i = 0; i < transforms.length; i++) {
        if (vetoed) {
          next.push(state.states[i]!);
          continue;
        }
        const [out, s] = transforms[i]!.update(current, state.states[i]!, params, context);
        if (current !== grads) disposeNew(current, grads, out);
        current = out;
        next.push(s);
        if (transforms[i]!.shouldApply?.(s) === false) vetoed = true;
      }
      if (typeof state.apply === 'object') state.apply.dispose();
      if (vetoes.length < 2) return [current, { transform: 'chain', names, states: next }];
      return [current, { transform: 'chain', names, states: next, apply: combineMasks(vetoes.map((i) => transforms[i]!.shouldApply!(next[i]!))) }];
    },
  };
  if (vetoes.length > 0) {
    chained.shouldApply = (state) =>
      vetoes.length === 1 ? transforms[vetoes[0]!]!.shouldApply!(state.states[vetoes[0]!]!) : state.apply;
  }
  if (probing) {
    // Keys are prefixed with the stage index so that two stages of the same kind never collide.
    chained.probe = (state) => {
      const out: Record<string, tf.Tensor | number> = {};
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

/** AND of the stages' answers: false as soon as one host answer is false, a device AND where masks remain. */
function combineMasks(masks: readonly Mask[]): tf.Tensor | boolean | undefined {
  if (masks.some((m) => m === false)) return false;
  const device = masks.filter((m): m is tf.Tensor => typeof m === 'object');
  if (device.length === 0) return masks.some((m) => m === true) ? true : undefined;
  // A copy even for one mask: this state owns (and later disposes) what it holds, the stage owns its own mask.
  return tf.keep(tf.tidy(() => (device.length === 1 ? tf.clone(device[0]!) : device.reduce((a, b) => tf.logicalAnd(a, b)))));
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
