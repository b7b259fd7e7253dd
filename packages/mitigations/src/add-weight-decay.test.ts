import * as tf from '@tensorflow/tfjs';
import { expectClose } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { addWeightDecay, decoupledWeightDecay } from './add-weight-decay';
import { chain } from './chain';
import { guard } from './guard';
import { skipNonFinite } from './skip-non-finite';
import type { GradientTransformation } from './transformation';
import { SHAPES, WEIGHTS, applyOnce } from './test/fixtures';
import { expectUpdatesLeakNothing } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('addWeightDecay (coupled L1/L2)', () => {
  it('adds l1·sign(w) + 2·l2·w, the gradient of l1·Σ|w| + l2·Σw², on all shapes', async () => {
    const got = await applyOnce(addWeightDecay({ l1: 0.01, l2: 0.05 }), SHAPES, WEIGHTS);
    for (const [k, { v }] of Object.entries(SHAPES)) {
      const w = WEIGHTS[k]!.v;
      expectClose(got[k]!, v.map((g, i) => g + 0.01 * Math.sign(w[i]!) + 2 * 0.05 * w[i]!), 1e-6);
    }
  });

  it('equals the gradient Keras regularizers.l1l2 add to the loss (tf.grad of the penalty)', async () => {
    // No zero weight here: at w = 0 this uses the subgradient sign(0) = 0, whereas tfjs's Abs gradient gives −1.
    const w = tf.tensor([[0.3, -2], [0.7, 1.5]]);
    const penalty = (x: tf.Tensor) => tf.add(tf.mul(0.02, tf.sum(tf.abs(x))), tf.mul(0.1, tf.sum(tf.square(x))));
    const want = await tf.grad(penalty)(w).data();
    const got = await applyOnce(addWeightDecay({ l1: 0.02, l2: 0.1 }), { k: { v: [0, 0, 0, 0], shape: [2, 2] } }, { k: { v: Array.from(await w.data()), shape: [2, 2] } });
    expectClose(got['k']!, Array.from(want), 1e-6);
    w.dispose();
  });

  it('spares what `include` excludes, passes zero weights and gradients as zero, and keeps NaN as NaN', async () => {
    const got = await applyOnce(
      addWeightDecay({ l2: 0.5, include: (_n, w) => w.rank > 1 }),
      { k: { v: [1, 1], shape: [1, 2] }, b: { v: [1], shape: [1] }, z: { v: [0, 0], shape: [2, 1] }, n: { v: [Number.NaN, 0], shape: [1, 2] } },
      { k: { v: [2, -2], shape: [1, 2] }, b: { v: [5], shape: [1] }, z: { v: [0, 0], shape: [2, 1] }, n: { v: [1, 1], shape: [1, 2] } },
    );
    expect(got).toMatchObject({ k: [3, -1], b: [1], z: [0, 0] });
    expect(got['n']![0]).toBeNaN();
  });

  it('rejects negative coefficients and a missing parameter', () => {
    expect(() => addWeightDecay({ l2: -1 })).toThrow('addWeightDecay: l2 must be a number >= 0, got -1.');
    const t = addWeightDecay({ l2: 1 });
    const g = { w: tf.ones([2]) };
    expect(() => t.update(g, t.init({}), {})).toThrow(/no parameter for gradient "w"/);
    g.w.dispose();
  });

  it('leaks no tensor over 500 updates', async () => {
    await expectUpdatesLeakNothing(addWeightDecay({ l1: 1e-3, l2: 1e-2 }));
  });
});

describe('decoupledWeightDecay (AdamW-style)', () => {
  it('multiplies the weights by 1 − lr·rate after the step, separately from the gradient (SGD: w − lr·g, then decay)', async () => {
    const w = tf.variable(tf.tensor([1, -2]), true, 'dwd_w');
    const g = guard(tf.train.sgd(0.1), { transform: decoupledWeightDecay(0.5) });
    const grad = tf.tensor([1, 1]);
    g.applyGradients({ dwd_w: grad });
    // (1 − 0.1·1)·(1 − 0.05) = 0.855 ; (−2 − 0.1)·0.95 = −1.995
    expectClose(await w.data(), [0.855, -1.995], 1e-6);
    tf.dispose([w, grad]);
    g.dispose();
  });

  it('with Adam differs from coupled decay exactly as AdamW differs from Adam + L2', async () => {
    const run = async (name: string, transform: GradientTransformation | undefined) => {
      const w = tf.variable(tf.tensor([1, -2, 0.5]), true, name);
      const g = guard(tf.train.adam(0.1), { transform: transform! });
      for (let i = 0; i < 3; i++) {
        const grad = tf.tensor([0.1, 0.1, -0.2]);
        g.applyGradients({ [name]: grad });
        grad.dispose();
      }
      const out = Array.from(await w.data());
      w.dispose();
      g.dispose();
      return out;
    };
    // AdamW by hand: Adam on the raw gradient, then w ← w·(1 − lr·λ).
    const wRef = [1, -2, 0.5];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    for (let t = 1; t <= 3; t++) {
      [0.1, 0.1, -0.2].forEach((gi, i) => {
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
        const mh = m[i]! / (1 - 0.9 ** t);
        const vh = v[i]! / (1 - 0.999 ** t);
        wRef[i] = (wRef[i]! - (0.1 * mh) / (Math.sqrt(vh) + 1e-7)) * (1 - 0.1 * 0.2);
      });
    }
    const decoupled = await run('dwd_adam_a', decoupledWeightDecay(0.2));
    expectClose(decoupled, wRef, 1e-5);
    const coupled = await run('dwd_adam_b', addWeightDecay({ l2: 0.1 }));
    expect(Math.abs(coupled[0]! - decoupled[0]!)).toBeGreaterThan(1e-3);
  });

  it('is not applied on a skipped step', async () => {
    const w = tf.variable(tf.tensor([1, -2]), true, 'dwd_skip');
    const g = guard(tf.train.sgd(0.1), { transform: chain(skipNonFinite(), decoupledWeightDecay(0.5)) });
    const grad = tf.tensor([Number.NaN, 1]);
    g.applyGradients({ dwd_skip: grad });
    expect(Array.from(await w.data())).toEqual([1, -2]);
    tf.dispose([w, grad]);
    g.dispose();
  });

  it('rejects a negative rate', () => {
    expect(() => decoupledWeightDecay(-0.1)).toThrow('decoupledWeightDecay: rate must be a number >= 0, got -0.1.');
  });
});
