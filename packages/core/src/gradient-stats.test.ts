import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGradientMeter, gradientStats as measure, gradientStatsOnDevice } from './gradient-stats';
import { createReadback } from './readback';
import { mapVariablesToLayers } from './layer-map';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['host', 'device'] as const)('gradientStats, %s kernel', (kernel) => {
  const gradientStats = (g: tf.NamedTensorMap, o: Parameters<typeof measure>[1] = {}) => measure(g, { ...o, kernel });
  it('matches hand-computed norms, max |g|, zeros and the global norm', async () => {
    const grads = { a: tf.tensor([3, -4]), b: tf.tensor([[0, 0], [12, 0]]), c: tf.scalar(-2) };
    const s = await expectNoLeak(() => gradientStats(grads));
    // |a| = 5, |b| = 12, |c| = 2, global = sqrt(25 + 144 + 4) = sqrt(173)
    expect(s.variables.map((v) => v.norm)).toEqual([5, 12, 2]);
    expect(s.variables.map((v) => v.maxAbs)).toEqual([4, 12, 2]);
    expect(s.variables.map((v) => v.zeros)).toEqual([0, 3, 0]);
    expect(s.variables.map((v) => v.nonFinite)).toEqual([0, 0, 0]);
    expect(s.variables.map((v) => v.size)).toEqual([2, 4, 1]);
    expect(s.globalNorm).toBeCloseTo(Math.sqrt(173), 5);
    expect(s.maxAbs).toBe(12);
    expect(s.size).toBe(7);
    tf.dispose(Object.values(grads));
  });

  it('reports an all-zero gradient as norm 0, not NaN', async () => {
    const grads = { z: tf.zeros([3, 3]) };
    const s = await gradientStats(grads);
    expect(s.globalNorm).toBe(0);
    expect(s.variables[0]).toMatchObject({ norm: 0, maxAbs: 0, zeros: 9, nonFinite: 0 });
    tf.dispose(grads.z);
  });

  it('counts NaN and Infinity and propagates them into the norms by the documented rule', async () => {
    const grads = {
      nan: tf.tensor([1, Number.NaN, 2]),
      inf: tf.tensor([Number.NEGATIVE_INFINITY, 1, Number.POSITIVE_INFINITY, 0]),
      ok: tf.tensor([6, 8]),
    };
    const s = await gradientStats(grads);
    const [nan, inf, ok] = s.variables;
    expect(nan!.nonFinite).toBe(1);
    expect(nan!.norm).toBeNaN();
    expect(nan!.maxAbs).toBeNaN();
    expect(inf!.nonFinite).toBe(2);
    expect(inf!.norm).toBe(Number.POSITIVE_INFINITY);
    expect(inf!.maxAbs).toBe(Number.POSITIVE_INFINITY);
    expect(inf!.zeros).toBe(1);
    expect(ok!.norm).toBe(10);
    expect(s.nonFinite).toBe(3);
    expect(s.globalNorm).toBeNaN();
    tf.dispose(Object.values(grads));
  });

  it('pools variables into the layers of a model, in model order, by walking the layers', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [2], name: 'first' }),
        tf.layers.dense({ units: 1, name: 'second', useBias: false }),
      ],
    });
    const map = mapVariablesToLayers(model);
    expect([...map.values()].map((l) => `${l.layer}:${l.weight}`)).toEqual([
      'first:kernel',
      'first:bias',
      'second:kernel',
    ]);
    const [k1, b1, k2] = model.trainableWeights.map((w) => w.read() as tf.Variable);
    // Gradients in reverse order: the layer table must still follow the model.
    const grads = { [k2!.name]: tf.fill([3, 1], 2), [b1!.name]: tf.fill([3], 1), [k1!.name]: tf.zeros([2, 3]) };
    const s = await gradientStats(grads, { model });
    expect(s.layers.map((l) => l.layer)).toEqual(['first', 'second']);
    expect(s.layers[0]!.norm).toBeCloseTo(Math.sqrt(3), 6); // bias ones(3), kernel zeros
    expect(s.layers[0]!.zeros).toBe(6);
    expect(s.layers[1]!.norm).toBeCloseTo(Math.sqrt(12), 6);
    expect(s.variables.find((v) => v.name === k2!.name)!.layer).toBe('second');
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it('recurses into nested models and names layers by path', () => {
    const inner = tf.sequential({ name: 'inner', layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'd' })] });
    const outer = tf.sequential({ layers: [inner, tf.layers.dense({ units: 1, name: 'head' })] });
    const layers = [...new Set([...mapVariablesToLayers(outer).values()].map((l) => l.layer))];
    expect(layers).toEqual(['inner/d', 'head']);
    outer.dispose();
  });

  it('names the bad value when given something that is not a gradient map', async () => {
    await expect(gradientStats([1, 2] as never)).rejects.toThrow(/expected a map of variable name to gradient tensor, got an array of length 2/);
    await expect(gradientStats({ w: 3 } as never)).rejects.toThrow(/gradient "w" is 3, not a tf.Tensor/);
    expect(() => mapVariablesToLayers({} as never)).toThrow(/expected a tfjs LayersModel/);
  });

  it('measures weight norms of live variables, update norms and update-to-weight ratios, per variable and layer', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [2], name: 'd', kernelInitializer: 'ones', biasInitializer: 'zeros' })],
    });
    const [k, b] = model.trainableWeights.map((w) => w.read() as tf.Variable);
    b!.assign(tf.tensor1d([3, 0])); // kernel ones(2,2): |w| = 2; bias [3, 0]: |w| = 3; layer sqrt(13)
    const grads = { [k!.name]: tf.fill([2, 2], 0.5), [b!.name]: tf.tensor1d([0, 0]) };
    const updates = { [k!.name]: tf.fill([2, 2], -0.05), [b!.name]: tf.tensor1d([0.3, -0.4]) };
    const s = await expectNoLeak(() => gradientStats(grads, { model, updates }));
    expect(s.variables.map((v) => v.weightNorm)).toEqual([2, 3]);
    expect(s.variables[0]!.updateNorm).toBeCloseTo(0.1, 6);
    expect(s.variables[1]!.updateNorm).toBeCloseTo(0.5, 6);
    expect(s.layers[0]!.weightNorm).toBeCloseTo(Math.sqrt(13), 6);
    expect(s.layers[0]!.updateRatio).toBeCloseTo(Math.sqrt(0.26) / Math.sqrt(13), 6);
    expect(s.weightNorm).toBeCloseTo(Math.sqrt(13), 6);
    expect(s.updateRatio).toBeCloseTo(Math.sqrt(0.26) / Math.sqrt(13), 6);
    const off = await gradientStats(grads, { model, weights: false });
    expect(off.weightNorm).toBeUndefined();
    expect(off.layers[0]!.weightNorm).toBeUndefined();
    await expect(gradientStats(grads, { updates: { [k!.name]: updates[k!.name]! } })).rejects.toThrow(/updates has no entry for/);
    tf.dispose([...Object.values(grads), ...Object.values(updates)]);
    model.dispose();
  });

  it('counts |g| into fixed log-spaced bins per layer', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 2, inputShape: [2], name: 'first', useBias: false }),
        tf.layers.dense({ units: 1, name: 'second', useBias: false }),
      ],
    });
    const [k1, k2] = model.trainableWeights.map((w) => w.read() as tf.Variable);
    // Edges 1e-2, 1e-1, 1, 10 (3 bins). first: 0 and 5e-3 below, 0.05 in [1e-2,1e-1), -20 at/above 10.
    const grads = { [k1!.name]: tf.tensor2d([[0, 5e-3], [0.05, -20]]), [k2!.name]: tf.tensor2d([[0.5], [Number.NaN]]) };
    const s = await gradientStats(grads, { model, histogram: { bins: 3, minLog10: -2, maxLog10: 1 } });
    expect(s.histogramEdges!.map((e) => Number(e.toPrecision(6)))).toEqual([0.01, 0.1, 1, 10]);
    expect(s.layers[0]!.histogram).toEqual([2, 1, 0, 0, 1]);
    expect(s.layers[1]!.histogram).toEqual([1, 0, 1, 0, 0]); // NaN counts below the first edge
    expect(s.histogram).toEqual([3, 1, 1, 0, 1]);
    await expect(gradientStats(grads, { histogram: { minLog10: 1, maxLog10: 1 } })).rejects.toThrow(/maxLog10 \(1\) must be above/);
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it('measures same-shape variables together on the device: kernels per shape, not per variable, same numbers', async () => {
    const grads: Record<string, tf.Tensor> = {};
    for (let i = 0; i < 40; i++) grads[`k${i}`] = tf.randomNormal([8, 8], 0, 1 + i, 'float32', i);
    for (let i = 0; i < 5; i++) grads[`b${i}`] = tf.randomNormal([8], 0, 1, 'float32', 100 + i);
    grads.b2 = tf.tensor1d([0, 0, Number.NaN, 1, 2, 3, 0, 4]);
    const info = await tf.profile(() => gradientStatsOnDevice(grads).tensor);
    // Two shapes, about 22 kernels each (stack, reshape, abs, max, the scale, square, 3 sums, counts), one concat:
    // per shape, not per variable (46 variables).
    expect(info.kernels.length).toBeLessThanOrEqual(2 * 22 + 2);
    (info.result as tf.Tensor).dispose();
    const s = await gradientStats(grads);
    for (const v of s.variables) {
      const g = grads[v.name]!;
      const ref = g.dataSync();
      const sq = Array.from(ref).reduce((a, x) => a + x * x, 0);
      if (v.name === 'b2') {
        expect(v).toMatchObject({ nonFinite: 1, zeros: 3 });
        expect(v.norm).toBeNaN();
        continue;
      }
      expect(v.norm).toBeCloseTo(Math.sqrt(sq), 3);
      expect(v.maxAbs).toBeCloseTo(Math.max(...Array.from(ref, Math.abs)), 4);
      expect(v.size).toBe(g.size);
    }
    tf.dispose(Object.values(grads));
  });

  it('leaks nothing over many steps, with every option on', async () => {
    const grads = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]) };
    await expectNoLeak(async () => {
      for (let i = 0; i < 200; i++) await gradientStats(grads);
    });
    tf.dispose(Object.values(grads));
    const model = tf.sequential({
      layers: [tf.layers.lstm({ units: 3, inputShape: [4, 2], name: 'lstm' }), tf.layers.dense({ units: 1, name: 'head' })],
    });
    const full = Object.fromEntries(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, tf.randomNormal(w.shape as number[])]));
    const updates = Object.fromEntries(Object.entries(full).map(([k, v]) => [k, tf.mul(v, 1e-3)]));
    await expectNoLeak(async () => {
      for (let step = 0; step < 60; step++) {
        const p = gradientStatsOnDevice(full, { model, updates, histogram: true });
        p.decode(await p.tensor.data());
        p.tensor.dispose();
        await gradientStats(full, { model, updates, histogram: true });
        await gradientStats(full, { model, updates, histogram: true, kernel: 'device' });
      }
    });
    tf.dispose([...Object.values(full), ...Object.values(updates)]);
    model.dispose();
  });
});

describe('createGradientMeter', () => {
  it('picks the host kernel on cpu, hands out per-tensor facts during the step, and registers nothing to read', async () => {
    const meter = createGradientMeter();
    expect(meter.kernel).toBe('host');
    const grads = { a: tf.tensor([3, -4]), b: tf.tensor([Number.NaN, 1]) };
    const readback = createReadback();
    expect(readback.kind).toBe('host');
    const m = await expectNoLeak(async () => meter.measure(grads, readback));
    expect(m.kernel).toBe('host');
    expect(m.facts!.get(grads.a)).toEqual({ sq: 25, nonFinite: 0 });
    expect(m.facts!.get(grads.b)!.nonFinite).toBe(1);
    expect(m.facts!.get(grads.b)!.sq).toBeNaN();
    const values = readback.readSync();
    expect(values.size).toBe(0);
    expect(m.decode(values).variables[0]!.norm).toBe(5);
    tf.dispose(Object.values(grads));
  });

  it('on the device kernel registers one tensor under its key and decodes it from the named readback', async () => {
    const meter = createGradientMeter({ kernel: 'device', weights: false });
    expect(meter.kernel).toBe('device');
    const grads = { a: tf.tensor([1, 2, 2]), b: tf.tensor([0]) };
    const readback = createReadback('device');
    const m = meter.measure(grads, readback, 'g');
    expect(m.facts).toBeUndefined();
    readback.add('loss', tf.scalar(0.5));
    const values = await readback.read();
    expect([...values.keys()]).toEqual(['g', 'loss']);
    expect(values.get('loss')![0]).toBe(0.5);
    // 4 values per variable (Σg², finite, zeros, max g²): the statistics never see the loss, nor its position.
    expect(values.get('g')).toHaveLength(8);
    expect(m.decode(values).variables[0]!.norm).toBeCloseTo(3, 6);
    expect(() => m.decode(new Map())).toThrow(/readback holds no "g" values/);
    tf.dispose(Object.values(grads));
  });

  it('measures the weights as they are when measure() is called (before the update)', async () => {
    const w = tf.variable(tf.tensor1d([3, 4]), true, 'meter_w_before');
    const grads = { [w.name]: tf.tensor1d([1, 1]) };
    for (const kernel of ['host', 'device'] as const) {
      const meter = createGradientMeter({ kernel });
      const readback = createReadback(kernel);
      const m = meter.measure(grads, readback);
      const read = readback.read();
      w.assign(tf.tensor1d([30, 40])); // the update, after measuring
      expect((m.decode(await read)).weightNorm).toBe(5);
      w.assign(tf.tensor1d([3, 4]));
    }
    tf.dispose([w, ...Object.values(grads)]);
  });

  it('keeps its layout across steps and rebuilds it when the gradient map changes', async () => {
    const meter = createGradientMeter({ weights: false });
    const one = { a: tf.ones([2, 2]) };
    const two = { a: tf.ones([2, 2]), b: tf.fill([3], 2) };
    const norms = [];
    for (const grads of [one, one, two, one]) {
      const readback = createReadback();
      norms.push(meter.measure(grads, readback).decode(readback.readSync()).globalNorm);
    }
    expect(norms).toEqual([2, 2, 4, 2]);
    tf.dispose([...Object.values(one), two.b]);
  });

  it('rebuilds its layout when a variable keeps its name but changes shape, or the names change order', () => {
    const meter = createGradientMeter({ weights: false });
    const maps = [
      { a: tf.ones([2, 2]), b: tf.fill([3], 2) }, // 4 + 12
      { a: tf.ones([4]), b: tf.fill([3], 2) }, // same names and sizes, another shape
      { a: tf.ones([2, 3]), b: tf.fill([3], 2) }, // 6 + 12
      { b: tf.fill([3], 2), a: tf.ones([2, 3]) }, // the order of the names changes
    ];
    const out = maps.map((grads) => {
      const readback = createReadback();
      const s = meter.measure(grads, readback).decode(readback.readSync());
      return [s.globalNorm ** 2, s.variables.map((v) => `${v.name}:${v.size}`).join(',')];
    });
    expect(out.map((o) => o[0])).toEqual([16, 16, 18, 18].map((x) => expect.closeTo(x, 12)));
    expect(out.map((o) => o[1])).toEqual(['a:4,b:3', 'a:4,b:3', 'a:6,b:3', 'b:3,a:6']);
    tf.dispose(maps.flatMap((m) => Object.values(m)));
  });
});
