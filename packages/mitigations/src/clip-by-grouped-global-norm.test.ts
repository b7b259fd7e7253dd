import * as tf from '@tensorflow/tfjs';
import type { TensorFacts } from '@gradguard/core';
import { expectClose, expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { clipByGroupedGlobalNorm } from './clip-by-grouped-global-norm';
import { guard } from './guard';
import { buildDeepReluMlp, mlpData } from './test/fixtures';
import { expectUpdatesLeakNothing } from './testing';
import { type GradientTransformation, createStepContext, disposeState } from './transformation';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Grads = Record<string, number[]>;

/** One update on the host (guard's facts) or the device; returns the outputs read back. */
async function once(t: GradientTransformation, grads: Grads, host: boolean): Promise<Grads> {
  const g: tf.NamedTensorMap = {};
  const facts = new Map<tf.Tensor, TensorFacts>();
  for (const [n, v] of Object.entries(grads)) {
    g[n] = tf.tensor1d(v);
    facts.set(g[n]!, { sq: v.reduce((a, x) => a + x * x, 0), nonFinite: v.filter((x) => !Number.isFinite(x)).length });
  }
  const state = t.init(g);
  const [out, next] = t.update(g, state, g, host ? createStepContext(0, facts) : undefined);
  const got: Grads = {};
  for (const [n, x] of Object.entries(out)) got[n] = Array.from(await x.data());
  for (const n of Object.keys(out)) if (out[n] !== g[n]) out[n]!.dispose();
  tf.dispose(Object.values(g));
  disposeState(next);
  return got;
}

// An embedding whose gradient norm is 500 next to two small layers (norms 5 and 0.5: together √25.25 = 5.02494).
const GRADS: Grads = { embedding_1: [300, 400], dense_1: [3, 4], dense_2: [0, 0.5] };
const REST = Math.sqrt(25.25);

describe.each([true, false])('clipByGroupedGlobalNorm (host: %s)', (host) => {
  it('clips each group by its own global norm: the huge embedding no longer starves the dense layers', async () => {
    const grouped = await once(clipByGroupedGlobalNorm(1, { groups: [{ match: /^embedding/ }] }), GRADS, host);
    expectClose(grouped['embedding_1']!, [0.6, 0.8]); // 1/500
    expectClose(grouped['dense_1']!, [3 / REST, 4 / REST]); // the rest together: 1/5.02494
    expectClose(grouped['dense_2']!, [0, 0.5 / REST]);
    // The same step under global clipping: every layer scaled by 1/500.025, the dense layers' update 100× smaller.
    const global = await once(clipByGlobalNorm(1), GRADS, host);
    const g = Math.sqrt(250000 + 25.25);
    expectClose(global['dense_1']!, [3 / g, 4 / g]);
    expect(Math.hypot(...grouped['dense_1']!) / Math.hypot(...global['dense_1']!)).toBeCloseTo(g / REST, 2); // 99.5×
  });

  it('takes a bound per group, and a function naming each variable\'s group', async () => {
    const bounds = await once(clipByGroupedGlobalNorm(1, { groups: [{ match: /^embedding/, maxNorm: 10 }, { match: (n) => n === 'dense_2' }] }), GRADS, host);
    expectClose(bounds['embedding_1']!, [6, 8]); // 10/500
    expectClose(bounds['dense_1']!, [0.6, 0.8]); // alone in the rest: 1/5
    expectClose(bounds['dense_2']!, [0, 0.5]); // its own group, under the bound: unchanged
    const byPrefix = await once(clipByGroupedGlobalNorm(2, { groups: (n) => n.split('_')[0]! }), GRADS, host);
    expectClose(byPrefix['embedding_1']!, [1.2, 1.6]); // 2/500
    expectClose(byPrefix['dense_1']!, [6 / REST, 8 / REST]);
  });

  it('a NaN poisons its own group only; a group under its bound passes as it is', async () => {
    const out = await once(clipByGroupedGlobalNorm(1, { groups: [{ match: /^embedding/ }] }), { embedding_1: [Number.NaN, 1], dense_1: [0.3, 0.4] }, host);
    expect(out['embedding_1']!.every(Number.isNaN)).toBe(true);
    expectClose(out['dense_1']!, [0.3, 0.4]);
  });
});

describe('clipByGroupedGlobalNorm', () => {
  it('rejects bad groups, naming the value and the fix', () => {
    expect(() => clipByGroupedGlobalNorm(1, { groups: 'layer' } as never)).toThrow(/groups must be a function or a list of groups, got "layer"/);
    expect(() => clipByGroupedGlobalNorm(1, { groups: [{ match: 'emb' }] } as never)).toThrow(/groups\[0\]\.match must be a RegExp or a function/);
    expect(() => clipByGroupedGlobalNorm(1, { groups: [{ match: /a/, maxNorm: -1 }] })).toThrow('clipByGroupedGlobalNorm: groups[0].maxNorm must be a number > 0, got -1.');
    expect(() => clipByGroupedGlobalNorm(0, { groups: () => 'x' })).toThrow('clipByGroupedGlobalNorm: maxNorm must be a number > 0, got 0.');
  });

  it('leaves no tensor behind: 500 device updates, 100 guarded host steps', async () => {
    await expectUpdatesLeakNothing(clipByGroupedGlobalNorm(0.5, { groups: [{ match: /^a$/ }] }));
    const model = buildDeepReluMlp(1, 2, 8);
    const { xs, ys } = mlpData(32, 8);
    const guarded = guard(tf.train.adam(0.01), { model, transform: clipByGroupedGlobalNorm(0.1, { groups: [{ match: /head/ }] }) });
    const step = (): void => {
      tf.tidy(() => {
        guarded.minimize(() => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
      });
    };
    for (let i = 0; i < 3; i++) step();
    await expectNoLeak(async () => {
      for (let i = 0; i < 100; i++) step();
      await guarded.flush();
    });
    expect(guarded.latest!.scale).toBeLessThan(1); // the bound of 0.1 really clips
    guarded.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
