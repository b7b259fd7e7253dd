import * as tf from '@tensorflow/tfjs';
import { GradguardError } from '@gradguard/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaptiveGradClip,
  addWeightDecay,
  autoClip,
  chain,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  controlLearningRate,
  decoupledWeightDecay,
  setLearningRate,
  skipNonFinite,
  spikeClip,
  zClip,
} from './index';

// Careless calls of the transformation factories of @gradguard/mitigations (guard itself: guard-arguments.test.ts).
// Each fails when the factory is called, not at the first step, with the value and the rule in the message.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const deep = (levels: number): Record<string, unknown> => {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < levels; i++) at = at.a = {} as Record<string, unknown>;
  return root;
};
const any = (v: unknown): never => v as never;

/** [call, run, text the message must contain] */
export const MITIGATION_CASES: readonly (readonly [string, () => unknown, string])[] = [
  // the single bound of the simple clips
  ...(
    [
      ['clipByValue', clipByValue, 'limit', 'a number > 0'],
      ['clipByNorm', clipByNorm, 'maxNorm', 'a number > 0'],
      ['clipByGlobalNorm', clipByGlobalNorm, 'maxNorm', 'a number > 0'],
      ['adaptiveGradClip', (v: number) => adaptiveGradClip(v), 'clipping', 'a number > 0'],
      ['decoupledWeightDecay', (v: number) => decoupledWeightDecay(v), 'rate', 'a number >= 0'],
    ] as const
  ).flatMap(([name, f, arg, rule]) =>
    (
      [
        ['undefined', undefined, 'undefined'],
        ['null', null, 'null'],
        ['NaN', Number.NaN, 'NaN'],
        ['Infinity', Infinity, 'Infinity'],
        ['"1"', '1', '"1"'],
        ['-1', -1, '-1'],
        ['an options object', { maxNorm: 1 }, 'an object (Object)'],
      ] as const
    ).map(([label, v, shown]) => [`${name}(${label})`, () => f(any(v)), `${name}: ${arg} must be ${rule}, got ${shown}`] as const),
  ),
  // option objects: wrong kind, unknown keys, bad values
  ['adaptiveGradClip(0.01, { epsilon })', () => adaptiveGradClip(0.01, any({ epsilon: 1e-3 })), 'adaptiveGradClip: unknown option "epsilon". Allowed: eps'],
  ['adaptiveGradClip(0.01, { eps: -1 })', () => adaptiveGradClip(0.01, { eps: -1 }), 'eps must be a number > 0, got -1'],
  ['adaptiveGradClip(0.01, "fast")', () => adaptiveGradClip(0.01, any('fast')), 'adaptiveGradClip: options must be an object, got "fast"'],
  ['autoClip(null)', () => autoClip(any(null)), 'autoClip: options must be an object, got null'],
  ['autoClip(10)', () => autoClip(any(10)), 'autoClip: options must be an object, got 10'],
  ['autoClip({ percentil })', () => autoClip(any({ percentil: 10 })), 'autoClip: unknown option "percentil". Did you mean "percentile"?'],
  ['autoClip({ percentile: 101 })', () => autoClip({ percentile: 101 }), 'percentile must be a number >= 0 <= 100, got 101'],
  ['autoClip({ history: 0.5 })', () => autoClip({ history: 0.5 }), 'history must be an integer >= 1, got 0.5'],
  ['autoClip({ maxNorm: NaN })', () => autoClip({ maxNorm: Number.NaN }), 'maxNorm must be a number > 0, got NaN'],
  ['zClip([])', () => zClip(any([])), 'zClip: options must be an object, got an array of length 0'],
  ['zClip({ threshold })', () => zClip(any({ threshold: 3 })), 'zClip: unknown option "threshold". Did you mean "zThreshold"?'],
  ['zClip({ zThreshold: -2 })', () => zClip({ zThreshold: -2 }), 'zThreshold must be a number > 0, got -2'],
  ['zClip({ alpha: "0.97" })', () => zClip({ alpha: any('0.97') }), 'alpha must be a number >= 0 <= 1, got "0.97"'],
  ['zClip({ warmup: Infinity })', () => zClip({ warmup: Infinity }), 'warmup must be an integer >= 1, got Infinity'],
  ['zClip({ config: deep })', () => zClip(any({ config: deep(10_000) })), 'zClip: unknown option "config"'],
  ['spikeClip({ beta: 0.9 })', () => spikeClip(any({ beta: 0.9 })), 'spikeClip: unknown option "beta". Did you mean "beta2"?'],
  ['spikeClip({ threshold: 0 })', () => spikeClip({ threshold: 0 }), 'threshold must be a number > 0, got 0'],
  ['spikeClip({ beta2: NaN })', () => spikeClip({ beta2: Number.NaN }), 'beta2 must be a number >= 0 <= 1, got NaN'],
  ['addWeightDecay(undefined)', () => addWeightDecay(any(undefined)), 'addWeightDecay: options are required, got undefined'],
  ['addWeightDecay(1e-4)', () => addWeightDecay(any(1e-4)), 'addWeightDecay: options must be an object, got 0.0001'],
  ['addWeightDecay({ weightDecay })', () => addWeightDecay(any({ weightDecay: 1e-4 })), 'addWeightDecay: unknown option "weightDecay"'],
  ['addWeightDecay({ l2: -1 })', () => addWeightDecay({ l2: -1 }), 'l2 must be a number >= 0, got -1'],
  ['addWeightDecay({ l1: NaN })', () => addWeightDecay({ l1: Number.NaN }), 'l1 must be a number >= 0, got NaN'],
  ['addWeightDecay({ include: "kernel" })', () => addWeightDecay({ l2: 1e-4, include: any('kernel') }), 'addWeightDecay: include must be a function (name, param) => boolean, got "kernel"'],
  ['decoupledWeightDecay(1e-4, { exclude })', () => decoupledWeightDecay(1e-4, any({ exclude: () => false })), 'decoupledWeightDecay: unknown option "exclude". Did you mean "include"?'],
  ['decoupledWeightDecay(1e-4, null)', () => decoupledWeightDecay(1e-4, any(null)), 'decoupledWeightDecay: options must be an object, got null'],
  ['controlLearningRate("warmup")', () => controlLearningRate(any('warmup')), 'controlLearningRate: options must be an object, got "warmup"'],
  ['controlLearningRate({ warmUp })', () => controlLearningRate(any({ warmUp: { steps: 10 } })), 'controlLearningRate: unknown option "warmUp". Did you mean "warmup"?'],
  ['controlLearningRate({ warmup: { steps: NaN } })', () => controlLearningRate({ warmup: { steps: Number.NaN } }), 'warmup.steps must be an integer >= 1, got NaN'],
  ['controlLearningRate({ warmup: { step: 10 } })', () => controlLearningRate({ warmup: any({ step: 10 }) }), 'controlLearningRate: unknown key in warmup "step". Did you mean "steps"?'],
  ['controlLearningRate({ warmup: 100 })', () => controlLearningRate({ warmup: any(100) }), 'controlLearningRate: warmup must be an object, got 100'],
  ['controlLearningRate({ backoff: { factor: 2 } })', () => controlLearningRate({ backoff: { factor: 2 } }), 'backoff.factor must be a number > 0 <= 1, got 2'],
  ['controlLearningRate({ backoff: { on: "non-finite" } })', () => controlLearningRate({ backoff: { on: any('non-finite') } }), 'backoff.on must be an array of problems, got "non-finite"'],
  ['controlLearningRate({ backoff: { minScale: -1 } })', () => controlLearningRate({ backoff: { minScale: -1 } }), 'backoff.minScale must be a number > 0 <= 1, got -1'],
  ['controlLearningRate().lower(NaN)', () => controlLearningRate().lower(Number.NaN), 'factor must be a number > 0 <= 1, got NaN'],
  ['setLearningRate(adam, -1)', () => setLearningRate(tf.train.adam(1e-3), -1), 'setLearningRate: learningRate must be a number >= 0, got -1'],
  ['skipNonFinite({ maxConsecutive: -1 })', () => skipNonFinite({ maxConsecutive: -1 }), 'maxConsecutive must be an integer >= 0, got -1'],
  ['skipNonFinite({ maxConsecutiv })', () => skipNonFinite(any({ maxConsecutiv: 3 })), 'unknown option "maxConsecutiv"'],
  ['chain(clipByGlobalNorm)', () => chain(any(clipByGlobalNorm)), 'chain: argument 0 is a function, not a gradient transformation'],
  ['chain(undefined)', () => chain(any(undefined)), 'chain: argument 0 is undefined, not a gradient transformation'],
];

describe('@gradguard/mitigations factories: careless calls fail at once with a clear error naming the value', () => {
  for (const [call, run, text] of MITIGATION_CASES) {
    const check = (): void => {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error, `${call} did not throw`).toBeInstanceOf(GradguardError);
      expect((error as Error).message).toContain(text);
    };
    if (call.includes('(gap:')) it.fails(call, check);
    else it(call, check);
  }
});
