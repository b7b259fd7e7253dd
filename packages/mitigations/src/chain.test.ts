import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { chain } from './chain';
import { autoClip } from './auto-clip';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { NonFiniteLimitError, skipNonFinite } from './skip-non-finite';
import { type GradientTransformation, type TransformState, disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stateful test transformation: multiplies by k and counts its calls in its state. */
function scaleBy(k: number): GradientTransformation<TransformState & { calls: number }> {
  return {
    name: 'scaleBy',
    init: () => ({ transform: 'scaleBy', calls: 0 }),
    update(grads, state) {
      const out: tf.NamedTensorMap = {};
      for (const [n, g] of Object.entries(grads)) out[n] = tf.mul(g, k);
      return [out, { transform: 'scaleBy', calls: state.calls + 1 }];
    },
  };
}

describe('chain', () => {
  it('applies transformations left to right: scale ×10 then clip to 1 differs from clip then scale', async () => {
    const g = { w: tf.tensor([0.3, 0.4]) }; // norm 0.5
    const a = chain(scaleBy(10), clipByGlobalNorm(1));
    const b = chain(clipByGlobalNorm(1), scaleBy(10));
    const [outA] = a.update(g, a.init({}), {});
    const [outB] = b.update(g, b.init({}), {});
    expect(Array.from(await outA.w!.data()).map((x) => +x.toFixed(6))).toEqual([0.6, 0.8]);
    expect(Array.from(await outB.w!.data()).map((x) => +x.toFixed(6))).toEqual([3, 4]);
    tf.dispose([g.w, outA.w!, outB.w!]);
  });

  it('threads each stage its own state across steps', () => {
    const c = chain(scaleBy(1), scaleBy(2));
    let state = c.init({});
    const g = { w: tf.ones([2]) };
    for (let i = 0; i < 3; i++) {
      const [out, s] = c.update(g, state, {});
      state = s;
      tf.dispose(Object.values(out));
    }
    expect(state.states.map((s) => (s as unknown as { calls: number }).calls)).toEqual([3, 3]);
    g.w.dispose();
  });

  it('rejects a state that does not match its transformations and says how to fix it', () => {
    const c = chain(scaleBy(1), clipByGlobalNorm(1));
    const other = chain(clipByGlobalNorm(1));
    const g = { w: tf.ones([2]) };
    expect(() => c.update(g, other.init({}) as never, {})).toThrow(
      /the state holds \[clipByGlobalNorm\] but the chain is \[scaleBy, clipByGlobalNorm\].*const state = chained.init\(params\)/,
    );
    expect(() => c.update(g, clipByGlobalNorm(1).init({}) as never, {})).toThrow(/got the state of "clipByGlobalNorm"/);
    expect(() => c.update(g, undefined as never, {})).toThrow(/expected the state made by this chain's init, got undefined/);
    expect(() => chain(clipByGlobalNorm(1), 3 as never)).toThrow(/argument 1 is 3, not a gradient transformation/);
    g.w.dispose();
  });

  it('disposes intermediate gradients: no leak over 500 chained updates', async () => {
    const c = chain(scaleBy(3), scaleBy(0.5), clipByGlobalNorm(1));
    const g = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]) };
    let state = c.init(g);
    await expectNoLeak(() => {
      for (let i = 0; i < 500; i++) {
        const [out, s] = c.update(g, state, g);
        state = s;
        tf.dispose(Object.values(out));
      }
    });
    tf.dispose(Object.values(g));
  });

  it('forwards the optional hooks: one veto is passed through, two are AND-ed, probes are prefixed by stage', async () => {
    const one = chain(skipNonFinite(), clipByGlobalNorm(1));
    const two = chain(skipNonFinite({ maxConsecutive: 5 }), autoClip(), skipNonFinite({ maxConsecutive: 0 }));
    expect(chain(clipByGlobalNorm(1)).shouldApply).toBeUndefined();
    const g = { w: tf.tensor([1, Number.NaN]) };
    let s1 = one.init({});
    let s2 = two.init({});
    const [o1, n1] = one.update(g, s1, {});
    const [o2, n2] = two.update(g, s2, {});
    s1 = n1;
    s2 = n2;
    expect((await (one.shouldApply!(s1) as tf.Tensor).data())[0]).toBe(0);
    expect(one.shouldApply!(s1)).toBe((s1.states[0] as unknown as { ok: tf.Tensor }).ok);
    expect((await (two.shouldApply!(s2) as tf.Tensor).data())[0]).toBe(0);
    expect(Object.keys(two.probe!(s2))).toEqual(['0:consecutive', '0:total', '1:bound', '2:consecutive', '2:total']);
    // Each stage judges its own probes: the second skipNonFinite allows 0 in a row, the first 5.
    const verdict = two.check!({ '0:consecutive': 1, '0:total': 1, '1:bound': 3, '2:consecutive': 1, '2:total': 1 }, 4);
    expect(verdict).toBeInstanceOf(NonFiniteLimitError);
    expect(verdict!.message).toMatch(/maxConsecutive = 0/);
    tf.dispose([g.w, ...Object.values(o1), ...Object.values(o2)]);
    disposeState(s1);
    disposeState(s2);
  });
});
