import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCaseModel, createCaseOptimizer } from './build';
import { CASE_LAYER_TYPES, CASE_OUTCOMES } from './case';
import { CASEBOOK, getCase } from './casebook';
import { CASE_DEFINITIONS } from './cases';
import { applyChange } from './change';
import { ADDITION_CHARS, IRIS_CLASSES, generateCaseData, regressionCoefficients } from './data';
import { divergenceStepOf, runCase } from './run-case';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('casebook definitions', () => {
  it('holds ≥ 20 cases with measured truth under 3 seeds, at least a third healthy, each with a source', () => {
    expect(CASEBOOK.length).toBeGreaterThanOrEqual(20);
    expect(CASEBOOK.length).toBe(CASE_DEFINITIONS.length);
    const healthy = CASEBOOK.filter((c) => c.family === 'healthy');
    expect(healthy.length * 3).toBeGreaterThanOrEqual(CASEBOOK.length);
    expect(new Set(CASEBOOK.map((c) => c.name)).size).toBe(CASEBOOK.length);
    for (const c of CASEBOOK) {
      expect(c.source.ref.length).toBeGreaterThan(10);
      expect(c.source.published.length).toBeGreaterThan(40);
      expect(c.truth.map((t) => t.seed)).toEqual([1, 2, 3]);
      for (const t of c.truth) expect(CASE_OUTCOMES).toContain(t.outcome);
      for (const l of c.layers) expect(CASE_LAYER_TYPES).toContain(l.type);
      // Broken cases carry the fixes the field accepts, and every one of them changes the case.
      if (c.family !== 'healthy') expect(c.fixes.length).toBeGreaterThan(0);
      for (const f of c.fixes) expect(applyChange(c, f.change), `${c.name}: ${f.name}`).toBeDefined();
    }
  });

  it('a healthy case learns on most seeds and a broken one fails on most (measured ground truth)', () => {
    for (const c of CASEBOOK) {
      const learned = c.truth.filter((t) => t.outcome === 'learns').length;
      if (c.family === 'healthy') expect(learned, c.name).toBeGreaterThanOrEqual(2);
      if (c.family !== 'healthy') expect(learned, c.name).toBeLessThanOrEqual(1);
    }
    expect(getCase('mlm-regression-exploding')!.truth.map((t) => t.nanStep)).toEqual([7, 7, 8]);
  });

  it('every model builds with the declared shapes, weights seeded (same seed → same weights)', () => {
    for (const c of CASEBOOK) {
      const a = buildCaseModel(c, 1);
      const b = buildCaseModel(c, 1);
      expect(a.inputs[0]!.shape.slice(1)).toEqual([...c.inputShape]);
      const wa = a.getWeights().map((w) => Array.from(w.dataSync().slice(0, 4)));
      const wb = b.getWeights().map((w) => Array.from(w.dataSync().slice(0, 4)));
      expect(wa).toEqual(wb);
      a.dispose();
      b.dispose();
    }
  });

  it('optimizers follow Keras defaults: SGD with momentum is tfjs momentum, names get tfjs-layers’ rates', () => {
    const sgd = createCaseOptimizer({ name: 'sgd', learningRate: 0.01, momentum: 0.9 });
    expect(sgd.getClassName()).toBe('Momentum');
    expect(sgd.getConfig()).toMatchObject({ learningRate: 0.01, momentum: 0.9 });
    const adam = createCaseOptimizer({ name: 'adam', byName: true });
    expect(adam.getConfig()).toMatchObject({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    const dcgan = createCaseOptimizer({ name: 'adam', learningRate: 0.0002, beta1: 0.5 });
    expect(dcgan.getConfig()).toMatchObject({ learningRate: 0.0002, beta1: 0.5 });
    tf.dispose([sgd, adam, dcgan] as unknown as tf.Tensor[]);
  });
});

describe('casebook data generators (deterministic, hand-checked)', () => {
  it('are pure functions of (data, samples, seed)', () => {
    for (const c of CASEBOOK) {
      const a = generateCaseData(c.data, 16, 5);
      const b = generateCaseData(c.data, 16, 5);
      const other = generateCaseData(c.data, 16, 6);
      expect(a.x).toEqual(b.x);
      expect(a.y).toEqual(b.y);
      expect(Array.from(a.x)).not.toEqual(Array.from(other.x));
      expect(a.xShape).toEqual([16, ...c.inputShape]);
    }
  });

  it('circles: without noise or scaling, half the points at radius 1 (class 0), half at 0.8 (class 1)', () => {
    const { x, y } = generateCaseData({ kind: 'circles', noise: 0, minMaxScale: false }, 10, 1);
    for (let i = 0; i < 10; i++) expect(Math.hypot(x[2 * i]!, x[2 * i + 1]!)).toBeCloseTo(y[i] === 1 ? 0.8 : 1, 5);
    expect(Array.from(y).filter((v) => v === 1)).toHaveLength(5);
    const scaled = generateCaseData({ kind: 'circles', noise: 0.1 }, 100, 1);
    expect(Math.min(...scaled.x)).toBeCloseTo(-1, 5);
    expect(Math.max(...scaled.x)).toBeCloseTo(1, 5);
  });

  it('regression: y = x·w exactly without noise, w = 100·U(0,1) on the informative features only', () => {
    const d = { kind: 'regression', features: 4, informative: 2, noise: 0, problemSeed: 1 } as const;
    const w = regressionCoefficients(d);
    expect(w.slice(2)).toEqual([0, 0]);
    for (const v of w.slice(0, 2)) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(100);
    }
    const { x, y } = generateCaseData(d, 3, 2);
    for (let i = 0; i < 3; i++) expect(y[i]).toBeCloseTo(x[4 * i]! * w[0]! + x[4 * i + 1]! * w[1]!, 3);
    // Standardized targets are the same draw divided by the population std √(Σw² + noise²).
    const s = generateCaseData({ ...d, standardizeTargets: true }, 3, 2);
    expect(s.y[0]).toBeCloseTo(y[0]! / Math.hypot(...w), 5);
  });

  it('addition: each one-hot question decodes to "a+b" and its answer to the sum', () => {
    const { x, y } = generateCaseData({ kind: 'addition', digits: 2 }, 20, 3);
    const k = ADDITION_CHARS.length;
    const decode = (arr: Float32Array, offset: number, len: number): string =>
      Array.from({ length: len }, (_, t) => ADDITION_CHARS[arr.subarray(offset + t * k, offset + (t + 1) * k).indexOf(1)]).join('');
    for (let i = 0; i < 20; i++) {
      const q = decode(x, i * 5 * k, 5).trim();
      const [a, b] = q.split('+').map(Number);
      expect(decode(y, i * 3 * k, 3).trim()).toBe(String(a! + b!));
    }
  });

  it('blobs with a tiny spread sit on their centers; power is x⁴; iris matches Fisher’s class means', () => {
    const blobs = generateCaseData({ kind: 'blobs', centers: 3, features: 2, std: 1e-6, problemSeed: 2 }, 30, 1);
    const centers = new Map<number, [number, number]>();
    for (let i = 0; i < 30; i++) {
      const c = [0, 1, 2].find((j) => blobs.y[3 * i + j] === 1)!;
      const p: [number, number] = [blobs.x[2 * i]!, blobs.x[2 * i + 1]!];
      if (!centers.has(c)) centers.set(c, p);
      expect(p[0]).toBeCloseTo(centers.get(c)![0], 4);
      expect(Math.abs(p[0])).toBeLessThanOrEqual(10);
    }
    const p = generateCaseData({ kind: 'power', exponent: 4, range: 100 }, 5, 1);
    for (let i = 0; i < 5; i++) expect(p.y[i]! / p.x[i]! ** 4).toBeCloseTo(1, 5);
    const iris = generateCaseData({ kind: 'iris' }, 3000, 1);
    for (let c = 0; c < 3; c++) {
      const rows = Array.from({ length: 3000 }, (_, i) => i).filter((i) => iris.y[3 * i + c] === 1);
      const mean = rows.reduce((s, i) => s + iris.x[4 * i + 2]!, 0) / rows.length;
      expect(mean).toBeCloseTo(IRIS_CLASSES[c]!.mean[2], 1); // petal length
    }
  });
});

describe('ground truth, re-checked by running a fast subset', () => {
  it('divergence step: the loss reaching twice its first value, or non-finite', () => {
    expect(divergenceStepOf([1, 1.5, 2, 5])).toBe(3);
    expect(divergenceStepOf([1, 0.5, Number.NaN])).toBe(3);
    expect(divergenceStepOf([1, 0.9, 0.8])).toBeNull();
  });

  it('the exploding regression turns NaN at the recorded step and the scaled one learns, leaving no tensor', async () => {
    const before = tf.memory().numTensors;
    const broken = getCase('mlm-regression-exploding')!;
    const r = await runCase(broken, { seed: 1 });
    expect(r.outcome).toBe('nan');
    expect(r.nanStep).toBe(broken.truth[0]!.nanStep);
    expect(r.divergenceStep).toBe(broken.truth[0]!.divergenceStep);
    const healthy = await runCase(getCase('mlm-regression-scaled')!, { seed: 1 });
    expect(healthy.outcome).toBe('learns');
    expect(healthy.metric).toBeCloseTo(getCase('mlm-regression-scaled')!.truth[0]!.metric, 2);
    const housing = await runCase(getCase('tfjs-boston-unnormalized')!, { seed: 2 });
    expect(housing.nanStep).toBe(getCase('tfjs-boston-unnormalized')!.truth[1]!.nanStep);
    // The accepted fix (normalize the features) makes the same run learn.
    const fixed = await runCase(applyChange(getCase('tfjs-boston-unnormalized')!, { kind: 'normalize-data' })!, { seed: 2 });
    expect(fixed.outcome).toBe('learns');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a case asking for clipnorm needs a clipping optimizer and says so', async () => {
    const c = applyChange(getCase('mlm-regression-exploding')!, { kind: 'clipnorm', value: 1 })!;
    await expect(runCase(c, { seed: 1 })).rejects.toThrow(/clipnorm\/clipvalue.*optimizerFactory/);
  });
});
