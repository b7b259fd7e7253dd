import { ModelOptionError, checkInt } from '../errors';
import { createRandom, randomInt, randomNormal } from '../random';
import type { CaseData } from './case';

/** A case's data as plain arrays (row-major), so generators are testable without tfjs. */
export interface CaseArrays {
  readonly x: Float32Array;
  readonly y: Float32Array;
  /** Shapes including the sample axis. */
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
}

/**
 * Fisher's iris data (1936), per class (setosa, versicolor, virginica): mean and standard deviation of sepal length,
 * sepal width, petal length, petal width in cm, as published in the data set's summary statistics.
 */
export const IRIS_CLASSES = [
  { mean: [5.006, 3.428, 1.462, 0.246], std: [0.352, 0.379, 0.174, 0.105] },
  { mean: [5.936, 2.77, 4.26, 1.326], std: [0.516, 0.314, 0.47, 0.198] },
  { mean: [6.588, 2.974, 5.552, 2.026], std: [0.636, 0.322, 0.552, 0.275] },
] as const;

/**
 * The 12 features of the Boston housing data as the tfjs boston-housing example loads them (CRIM, ZN, INDUS, CHAS,
 * NOX, RM, AGE, DIS, RAD, TAX, PTRATIO, LSTAT): mean and standard deviation, rounded, from the data set's summary
 * statistics; the target MEDV (in $1000s) has mean 22.5 and standard deviation 9.2. Feature scales span 0.1 to 170.
 */
export const HOUSING_FEATURES = [
  [3.61, 8.6],
  [11.4, 23.3],
  [11.1, 6.9],
  [0.07, 0.25],
  [0.55, 0.12],
  [6.28, 0.7],
  [68.6, 28.1],
  [3.8, 2.1],
  [9.5, 8.7],
  [408, 169],
  [18.5, 2.2],
  [12.7, 7.1],
] as const;
export const HOUSING_TARGET = { mean: 22.5, std: 9.2 } as const;

/** The characters of the tfjs addition-rnn example: digits, '+' and the padding space. */
export const ADDITION_CHARS = '0123456789+ ';

/**
 * Generates `samples` examples of a case's data from `seed`. Deterministic: the same (data, samples, seed) gives the
 * same arrays on every machine (a seeded mulberry32 PRNG, no tfjs randomness).
 */
export function generateCaseData(data: CaseData, samples: number, seed: number): CaseArrays {
  const n = checkInt('generateCaseData', 'samples', samples, 1);
  const random = createRandom(seed);
  switch (data.kind) {
    case 'circles':
      return circles(data, n, random);
    case 'blobs':
      return blobs(data, n, random);
    case 'regression':
      return regression(data, n, random);
    case 'power':
      return power(data, n, random);
    case 'iris':
      return iris(n, random);
    case 'housing':
      return housing(data, n, random);
    case 'addition':
      return addition(data.digits, n, random);
    case 'text':
      return text(data, n, random);
    case 'sentiment':
      return sentiment(data, n, random);
    case 'weather':
      return weather(data, n, random);
    default:
      throw new ModelOptionError(`generateCaseData: unknown data kind ${JSON.stringify((data as { kind?: unknown }).kind)}.`);
  }
}

type Random = () => number;

function shuffled(n: number, random: Random): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function oneHot(labels: readonly number[], classes: number): Float32Array {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((c, i) => (y[i * classes + c] = 1));
  return y;
}

/** sklearn's make_circles: half the points evenly spaced on the unit circle (class 0), half on a circle of radius `factor` (class 1), plus N(0, noise²); then, as the MLM/AUTOTRAINER code does, min-max scaled to [−1, 1]. */
function circles(d: Extract<CaseData, { kind: 'circles' }>, n: number, random: Random): CaseArrays {
  const factor = d.factor ?? 0.8;
  const outer = Math.floor(n / 2);
  const inner = n - outer;
  const points: [number, number, number][] = [];
  for (let i = 0; i < outer; i++) points.push([Math.cos((2 * Math.PI * i) / outer), Math.sin((2 * Math.PI * i) / outer), 0]);
  for (let i = 0; i < inner; i++) points.push([factor * Math.cos((2 * Math.PI * i) / inner), factor * Math.sin((2 * Math.PI * i) / inner), 1]);
  for (const p of points) {
    p[0] += d.noise * randomNormal(random);
    p[1] += d.noise * randomNormal(random);
  }
  const order = shuffled(n, random);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  order.forEach((k, i) => {
    const p = points[k]!;
    x[2 * i] = p[0];
    x[2 * i + 1] = p[1];
    y[i] = p[2];
  });
  if (d.minMaxScale ?? true) minMaxScale(x, 2);
  return { x, y, xShape: [n, 2], yShape: [n, 1] };
}

function minMaxScale(x: Float32Array, columns: number): void {
  for (let c = 0; c < columns; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = c; i < x.length; i += columns) {
      lo = Math.min(lo, x[i]!);
      hi = Math.max(hi, x[i]!);
    }
    const span = hi - lo || 1;
    for (let i = c; i < x.length; i += columns) x[i] = (2 * (x[i]! - lo)) / span - 1;
  }
}

/** sklearn's make_blobs: centers uniform in [−10, 10]^features (fixed by problemSeed), samples split evenly, N(center, std²); labels one-hot. */
function blobs(d: Extract<CaseData, { kind: 'blobs' }>, n: number, random: Random): CaseArrays {
  const centerRandom = createRandom(d.problemSeed);
  const centers = Array.from({ length: d.centers }, () => Array.from({ length: d.features }, () => -10 + 20 * centerRandom()));
  const labels = Array.from({ length: n }, (_, i) => i % d.centers);
  const order = shuffled(n, random);
  const x = new Float32Array(n * d.features);
  const sorted = order.map((k) => labels[k]!);
  sorted.forEach((c, i) => {
    for (let f = 0; f < d.features; f++) x[i * d.features + f] = centers[c]![f]! + d.std * randomNormal(random);
  });
  return { x, y: oneHot(sorted, d.centers), xShape: [n, d.features], yShape: [n, d.centers] };
}

/** The coefficients make_regression draws: 100·U(0, 1) on the first `informative` features, 0 elsewhere. */
export function regressionCoefficients(d: Extract<CaseData, { kind: 'regression' }>): number[] {
  const r = createRandom(d.problemSeed);
  return Array.from({ length: d.features }, (_, j) => (j < d.informative ? 100 * r() : 0));
}

/** sklearn's make_regression: x ~ N(0, I), y = x·w + N(0, noise²); targets optionally divided by their population std. */
function regression(d: Extract<CaseData, { kind: 'regression' }>, n: number, random: Random): CaseArrays {
  const w = regressionCoefficients(d);
  const scale = d.standardizeTargets ? Math.sqrt(w.reduce((s, v) => s + v * v, 0) + d.noise * d.noise) : 1;
  const x = new Float32Array(n * d.features);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < d.features; j++) {
      const v = randomNormal(random);
      x[i * d.features + j] = v;
      t += v * w[j]!;
    }
    y[i] = (t + d.noise * randomNormal(random)) / scale;
  }
  return { x, y, xShape: [n, d.features], yShape: [n, 1] };
}

/** y = x^exponent for x ~ U(−range, range); `scaled` divides x by range and y by range^exponent. */
function power(d: Extract<CaseData, { kind: 'power' }>, n: number, random: Random): CaseArrays {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = -d.range + 2 * d.range * random();
    x[i] = d.scaled ? v / d.range : v;
    y[i] = d.scaled ? (v / d.range) ** d.exponent : v ** d.exponent;
  }
  return { x, y, xShape: [n, 1], yShape: [n, 1] };
}

/** Iris-like flowers: each class's features drawn N(mean, std²) from Fisher's published per-class statistics. */
function iris(n: number, random: Random): CaseArrays {
  const labels = shuffled(n, random).map((k) => k % 3);
  const x = new Float32Array(n * 4);
  labels.forEach((c, i) => {
    const cls = IRIS_CLASSES[c]!;
    for (let f = 0; f < 4; f++) x[i * 4 + f] = cls.mean[f]! + cls.std[f]! * randomNormal(random);
  });
  return { x, y: oneHot(labels, 3), xShape: [n, 4], yShape: [n, 3] };
}

/** Housing-like data: the 12 features at their published means and scales, MEDV a fixed linear function of them plus noise. */
function housing(d: Extract<CaseData, { kind: 'housing' }>, n: number, random: Random): CaseArrays {
  const r = createRandom(d.problemSeed);
  const a = HOUSING_FEATURES.map(() => randomNormal(r));
  const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
  const f = HOUSING_FEATURES.length;
  const x = new Float32Array(n * f);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < f; j++) {
      const z = randomNormal(random);
      const [mean, std] = HOUSING_FEATURES[j]!;
      x[i * f + j] = d.normalized ? z : mean + std * z;
      t += a[j]! * z;
    }
    // 90 % of the target's variance is explained by the features, the rest is noise.
    y[i] = HOUSING_TARGET.mean + HOUSING_TARGET.std * (Math.sqrt(0.9) * (t / norm) + Math.sqrt(0.1) * randomNormal(random));
  }
  return { x, y, xShape: [n, f], yShape: [n, 1] };
}

/** The tfjs addition-rnn data: "a+b" right-padded with spaces to 2·digits+1 characters, the sum to digits+1, one-hot over ADDITION_CHARS. */
function addition(digits: number, n: number, random: Random): CaseArrays {
  const inLen = 2 * digits + 1;
  const outLen = digits + 1;
  const k = ADDITION_CHARS.length;
  const x = new Float32Array(n * inLen * k);
  const y = new Float32Array(n * outLen * k);
  const max = 10 ** digits;
  for (let i = 0; i < n; i++) {
    const a = randomInt(random, max);
    const b = randomInt(random, max);
    const q = `${a}+${b}`.padEnd(inLen, ' ');
    const s = `${a + b}`.padEnd(outLen, ' ');
    for (let t = 0; t < inLen; t++) x[(i * inLen + t) * k + ADDITION_CHARS.indexOf(q[t]!)] = 1;
    for (let t = 0; t < outLen; t++) y[(i * outLen + t) * k + ADDITION_CHARS.indexOf(s[t]!)] = 1;
  }
  return { x, y, xShape: [n, inLen, k], yShape: [n, outLen, k] };
}

/**
 * Text for next-character prediction (the tfjs lstm-text-generation task) from a corpus stand-in: a Markov chain over
 * `alphabet` characters in which each character is followed by one of three (fixed by problemSeed) with probabilities
 * 0.7, 0.2, 0.1 — so the best possible top-1 accuracy is 0.7 and a memoryless guess scores about 1/alphabet.
 */
function text(d: Extract<CaseData, { kind: 'text' }>, n: number, random: Random): CaseArrays {
  const k = d.alphabet;
  const r = createRandom(d.problemSeed);
  const next = Array.from({ length: k }, () => [randomInt(r, k), randomInt(r, k), randomInt(r, k)]);
  const L = d.sampleLength;
  const x = new Float32Array(n * L * k);
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let c = randomInt(random, k);
    for (let t = 0; t <= L; t++) {
      if (t < L) x[(i * L + t) * k + c] = 1;
      else y[i * k + c] = 1;
      const u = random();
      c = next[c]![u < 0.7 ? 0 : u < 0.9 ? 1 : 2]!;
    }
  }
  return { x, y, xShape: [n, L, k], yShape: [n, k] };
}

/**
 * Reviews for the tfjs sentiment example's task: token ids (0 is padding, as its padSequences writes it, padded and
 * truncated at the front), 10 positive and 10 negative words fixed by problemSeed; each review draws its length
 * between maxLength/2 and maxLength, filler words, and 3 words of its label's sentiment and 1 of the other.
 */
function sentiment(d: Extract<CaseData, { kind: 'sentiment' }>, n: number, random: Random): CaseArrays {
  const V = d.vocabulary;
  const L = d.maxLength;
  const r = createRandom(d.problemSeed);
  const ids = shuffled(V - 2, r).map((v) => v + 2);
  const words = [ids.slice(0, 10), ids.slice(10, 20)];
  const filler = ids.slice(20);
  const x = new Float32Array(n * L);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const label = random() < 0.5 ? 0 : 1;
    const len = Math.floor(L / 2) + randomInt(random, L - Math.floor(L / 2) + 1);
    const review = Array.from({ length: len }, () => filler[randomInt(random, filler.length)]!);
    const marks = [...[0, 1, 2].map(() => words[label]![randomInt(random, 10)]!), words[1 - label]![randomInt(random, 10)]!];
    for (const m of marks) review[randomInt(random, len)] = m;
    for (let t = 0; t < len; t++) x[i * L + (L - len) + t] = review[t]!;
    y[i] = label;
  }
  return { x, y, xShape: [n, L], yShape: [n, 1] };
}

/**
 * A temperature-like series for the tfjs jena-weather task: hourly readings with a daily cycle of random phase and
 * amplitude, an AR(1) weather drift (φ 0.95) and `features − 1` correlated covariates (pressure-, humidity-like), all
 * already normalized as the example normalizes them; the target is the temperature `delay` hours after the window.
 */
function weather(d: Extract<CaseData, { kind: 'weather' }>, n: number, random: Random): CaseArrays {
  const T = d.lookBack;
  const F = d.features;
  const x = new Float32Array(n * T * F);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const phase = 2 * Math.PI * random();
    const amplitude = 0.5 + random();
    let drift = 0.5 * randomNormal(random);
    const temps: number[] = [];
    for (let t = 0; t < T + d.delay; t++) {
      drift = 0.95 * drift + 0.1 * randomNormal(random);
      const temp = amplitude * Math.sin((2 * Math.PI * t) / 24 + phase) + drift;
      temps.push(temp);
      if (t < T) {
        x[(i * T + t) * F] = temp;
        for (let f = 1; f < F; f++) x[(i * T + t) * F + f] = (f % 2 === 0 ? 1 : -1) * 0.7 * drift + 0.3 * randomNormal(random);
      }
    }
    y[i] = temps[T + d.delay - 1]!;
  }
  return { x, y, xShape: [n, T, F], yShape: [n, 1] };
}
