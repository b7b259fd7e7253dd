import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelOptionError } from './errors';
import * as tfl from '@tensorflow/tfjs-layers';
import { type InitializerSpec, createInitializer, createRegularizer, orthogonal } from './initializers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function sample(spec: InitializerSpec, shape: [number, number], seed = 7): Promise<Float32Array> {
  const w = createInitializer(spec, seed).apply(shape);
  const values = (await w.data()) as Float32Array;
  w.dispose();
  return values;
}

function std(values: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i]! - mean) ** 2;
  return Math.sqrt(v / values.length);
}

describe('createInitializer', () => {
  it('gives each family its reference standard deviation, times scale', async () => {
    const [fanIn, fanOut] = [256, 128];
    // Uniform(-a, a) has std a/√3 with a = √(3·var); truncated normals keep the target std (tfjs rescales by 0.8796).
    // 32768 samples: the sample std is within ~1 % of the true one; 2 % leaves room, a wrong family is off by ≥ 40 %.
    const near = (actual: number, expected: number) => expect(Math.abs(actual / expected - 1), `${actual} vs ${expected}`).toBeLessThan(0.02);
    near(std(await sample({ kind: 'glorot-uniform' }, [fanIn, fanOut])), Math.sqrt(2 / (fanIn + fanOut)));
    near(std(await sample({ kind: 'glorot-normal' }, [fanIn, fanOut])), Math.sqrt(2 / (fanIn + fanOut)));
    near(std(await sample({ kind: 'he-normal' }, [fanIn, fanOut])), Math.sqrt(2 / fanIn));
    near(std(await sample({ kind: 'he-uniform', scale: 3 }, [fanIn, fanOut])), 3 * Math.sqrt(2 / fanIn));
    near(std(await sample({ kind: 'lecun-normal' }, [fanIn, fanOut])), Math.sqrt(1 / fanIn));
    near(std(await sample({ kind: 'scaled-normal', stddev: 0.5 }, [fanIn, fanOut])), 0.5);
    expect(Array.from(await sample({ kind: 'zeros' }, [3, 3]))).toEqual(Array(9).fill(0));
  });

  it('makes an orthogonal kernel times gain: WᵀW = gain²·I, so every singular value (and |eigenvalue|) is the gain', async () => {
    const w = createInitializer({ kind: 'orthogonal', gain: 1.5 }, 3).apply([16, 16]) as tf.Tensor2D;
    const gram = tf.matMul(w, w, true, false);
    const values = await gram.data();
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) expect(values[i * 16 + j]!).toBeCloseTo(i === j ? 2.25 : 0, 4);
    }
    // Power iteration on W: ‖Wᵏv‖ grows exactly like gainᵏ for an orthogonal W.
    const v = tf.ones([16, 1]);
    const w10 = tf.tidy(() => {
      let x: tf.Tensor = v;
      for (let k = 0; k < 10; k++) x = tf.matMul(w, x);
      return tf.div(tf.norm(x), tf.norm(v));
    });
    expect((await w10.data())[0]!).toBeCloseTo(1.5 ** 10, 0);
    tf.dispose([w, gram, v, w10]);
  });

  it('draws the orthogonal kernel exactly as tfjs-layers does (bit-identical), without chained tensor methods', async () => {
    for (const [shape, gain, seed] of [[[6, 6], 1.5, 3], [[4, 7], 0.5, 11], [[7, 4], 1, 2], [[3, 2, 5], 2, 9]] as const) {
      const ours = orthogonal(gain, seed).apply([...shape]);
      const theirs = tfl.initializers.orthogonal({ gain, seed }).apply([...shape]);
      expect(ours.shape).toEqual(shape);
      expect(await ours.data()).toEqual(await theirs.data());
      tf.dispose([ours, theirs]);
    }
    // It stays an Orthogonal for serialization.
    expect(orthogonal(1.5, 3).getClassName()).toBe('Orthogonal');
    expect(orthogonal(1.5, 3).getConfig()).toEqual({ gain: 1.5, seed: 3 });
    expect(() => orthogonal(1, 1).apply([5])).toThrow('orthogonal: the shape must be at least 2-D, got [5].');
  });

  it('is deterministic per seed and differs across seeds', async () => {
    for (const spec of [{ kind: 'glorot-uniform' }, { kind: 'he-normal' }, { kind: 'orthogonal', gain: 2 }, { kind: 'scaled-normal', stddev: 1 }] as const) {
      expect(await sample(spec, [8, 8], 11)).toEqual(await sample(spec, [8, 8], 11));
      expect(await sample(spec, [8, 8], 11)).not.toEqual(await sample(spec, [8, 8], 12));
    }
  });

  it('rejects bad specs with a message naming the value', () => {
    expect(() => createInitializer({ kind: 'orthogonal', gain: -1 }, 1)).toThrow(/orthogonal.gain must be a number > 0, got -1/);
    expect(() => createInitializer({ kind: 'scaled-normal', stddev: 0 }, 1)).toThrow(ModelOptionError);
    expect(() => createInitializer({ kind: 'xavier' } as unknown as InitializerSpec, 1)).toThrow(/unknown initializer kind "xavier"; use one of glorot-uniform/);
  });
});

describe('createRegularizer', () => {
  it('computes l1·Σ|w| + l2·Σw² and is absent when both are zero', async () => {
    const w = tf.tensor2d([
      [1, -2],
      [3, -4],
    ]);
    const penalty = createRegularizer({ l1: 0.1, l2: 0.01 })!.apply(w);
    expect((await penalty.data())[0]!).toBeCloseTo(0.1 * 10 + 0.01 * 30, 5);
    expect(createRegularizer(undefined)).toBeUndefined();
    expect(createRegularizer({ l1: 0, l2: 0 })).toBeUndefined();
    expect(() => createRegularizer({ l2: -1 })).toThrow(/l2 must be a finite number >= 0, got -1/);
    tf.dispose([w, penalty]);
  });

  it('leaks nothing', async () => {
    await expectNoLeak(async () => {
      const w = tf.ones([2, 2]);
      for (let i = 0; i < 20; i++) createRegularizer({ l1: 1, l2: 1 })!.apply(w).dispose();
      w.dispose();
    });
  });
});
