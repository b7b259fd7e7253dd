import * as tf from '@tensorflow/tfjs';
import { GradguardError, createMonitor } from '@gradguard/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { GUARD_OPTION_KEYS, checkGuardArguments } from './guard-arguments';
import { controlLearningRate } from './learning-rate';

// Everything guard(optimizer, options) can be handed carelessly: each fails before anything is built, with the value
// and the fix in the message.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const adam = (): tf.Optimizer => tf.train.adam(1e-3);
const guardedLike = (): tf.Optimizer => Object.assign(adam(), { [Symbol.for('gradguard.guarded')]: true });
const model = (): tf.LayersModel => tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
const deep = (levels: number): Record<string, unknown> => {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < levels; i++) at = at.a = {} as Record<string, unknown>;
  return root;
};

/** [call, optimizer, options, text the message must contain] */
export const GUARD_CASES: readonly (readonly [string, () => unknown, () => unknown, string])[] = [
  ['optimizer undefined', () => undefined, () => ({}), "guard: expected a tf.Optimizer or an optimizer name, got undefined. Pass an optimizer such as tf.train.adam(1e-3), or a name such as 'adam'."],
  ['optimizer null', () => null, () => ({}), 'expected a tf.Optimizer or an optimizer name, got null'],
  ['optimizer "nadam" (no such name)', () => 'nadam', () => ({}), 'got "nadam". Use a name model.compile knows (adagrad, adadelta, adam, adamax, rmsprop, sgd)'],
  ['optimizer NaN', () => Number.NaN, () => ({}), 'expected a tf.Optimizer or an optimizer name, got NaN'],
  ['optimizer a plain object', () => ({ learningRate: 0.1 }), () => ({}), 'expected a tf.Optimizer, got an object (Object)'],
  ['optimizer a model', model, () => ({}), 'expected a tf.Optimizer, got an object (Object). Pass an optimizer such as tf.train.adam(1e-3), not a model'],
  ['optimizer the factory tf.train.adam', () => tf.train.adam, () => ({}), 'expected a tf.Optimizer or an optimizer name, got a function'],
  ['clipnorm 0', () => tf.train.sgd(0.1), () => ({ clipnorm: 0 }), 'clipnorm must be a number > 0, got 0'],
  ['clipnorm and globalClipnorm', () => tf.train.sgd(0.1), () => ({ clipnorm: 1, globalClipnorm: 1 }), 'give one of clipnorm, clipvalue and globalClipnorm, got clipnorm and globalClipnorm'],
  ['print "all"', () => tf.train.sgd(0.1), () => ({ print: 'all' }), "print must be 'none', 'critical' or 'warning', got \"all\""],
  ['kernel "gpu"', () => tf.train.sgd(0.1), () => ({ kernel: 'gpu' }), "kernel must be 'auto' or 'device', got \"gpu\""],
  ['optimizer already guarded', guardedLike, () => ({}), 'guard: the optimizer is already guarded. Chain transformations with chain(...)'],
  ['options null', adam, () => null, 'guard: options must be an object, got null'],
  ['options "clip"', adam, () => 'clip', 'guard: options must be an object, got "clip"'],
  ['options an array', adam, () => [clipByGlobalNorm(1)], 'guard: options must be an object, got an array of length 1'],
  ['unknown key statsEvry', adam, () => ({ statsEvry: 10 }), 'guard: unknown option "statsEvry". Did you mean "statsEvery"?'],
  ['unknown key clip', adam, () => ({ clip: 1 }), 'guard: unknown option "clip". Allowed: transform, monitor'],
  ['unknown key with a deep config', adam, () => ({ config: deep(10_000) }), 'guard: unknown option "config"'],
  ['transform a factory not called', adam, () => ({ transform: clipByGlobalNorm }), 'transform must be a gradient transformation (an object with init(params) and update(grads, state, params)), got a function (a factory not called?). Call the factory'],
  ['transform "clip"', adam, () => ({ transform: 'clip' }), 'transform must be a gradient transformation (an object with init(params) and update(grads, state, params)), got "clip"'],
  ['transform null', adam, () => ({ transform: null }), 'transform must be a gradient transformation (an object with init(params) and update(grads, state, params)), got null'],
  ['transform without update', adam, () => ({ transform: { init: () => ({}) } }), 'transform must be a gradient transformation (an object with init(params) and update(grads, state, params)), got an object (Object)'],
  ['monitor the factory', adam, () => ({ monitor: createMonitor }), 'monitor must be a monitor (an object with observe(step)), got a function'],
  ['monitor true', adam, () => ({ monitor: true }), 'monitor must be a monitor (an object with observe(step)), got true'],
  ['monitor {}', adam, () => ({ monitor: {} }), 'monitor must be a monitor (an object with observe(step)), got an object (Object)'],
  ['onStep "log"', adam, () => ({ onStep: 'log' }), "onStep must be a function, got \"log\""],
  ['onStep null', adam, () => ({ onStep: null }), 'onStep must be a function, got null'],
  ['model without layers', adam, () => ({ model: { name: 'm' } }), 'model must be a tfjs LayersModel (with .layers), got an object (Object) without a layers array'],
  ['model "model.json"', adam, () => ({ model: 'model.json' }), 'model must be a tfjs LayersModel (with .layers), got "model.json"'],
  ['model null', adam, () => ({ model: null }), 'model must be a tfjs LayersModel (with .layers), got null'],
  ['statsEvery NaN', adam, () => ({ statsEvery: Number.NaN }), 'guard: statsEvery must be an integer >= 1, got NaN'],
  ['statsEvery Infinity', adam, () => ({ statsEvery: Infinity }), 'guard: statsEvery must be an integer >= 1, got Infinity'],
  ['statsEvery 0', adam, () => ({ statsEvery: 0 }), 'guard: statsEvery must be an integer >= 1, got 0'],
  ['statsEvery -10', adam, () => ({ statsEvery: -10 }), 'guard: statsEvery must be an integer >= 1, got -10'],
  ['statsEvery 2.5', adam, () => ({ statsEvery: 2.5 }), 'guard: statsEvery must be an integer >= 1, got 2.5'],
  ['statsEvery "10"', adam, () => ({ statsEvery: '10' }), 'guard: statsEvery must be an integer >= 1, got "10"'],
  ['learningRate 0.01', adam, () => ({ learningRate: 0.01 }), 'learningRate must be a learning-rate control, got 0.01. Set the rate on the optimizer'],
  ['learningRate the factory', adam, () => ({ learningRate: controlLearningRate }), 'learningRate must be a learning-rate control, got a function'],
  ['rollback "yes"', adam, () => ({ rollback: 'yes' }), 'rollback must be true, false or an object of every, learningRateFactor, maxRollbacks, got "yes"'],
  ['rollback 1', adam, () => ({ rollback: 1 }), 'rollback must be true, false or an object of every, learningRateFactor, maxRollbacks, got 1'],
  ['rollback { every: NaN }', adam, () => ({ rollback: { every: Number.NaN } }), 'guard: rollback.every must be an integer >= 1, got NaN'],
  ['rollback { learningRateFactor: 2 }', adam, () => ({ rollback: { learningRateFactor: 2 } }), 'guard: rollback.learningRateFactor must be a number > 0 <= 1, got 2'],
  ['rollback { maxRollbacks: -1 }', adam, () => ({ rollback: { maxRollbacks: -1 } }), 'guard: rollback.maxRollbacks must be an integer >= 1, got -1'],
  ['rollback { evry }', adam, () => ({ rollback: { evry: 10 } }), 'guard: unknown key in rollback "evry". Did you mean "every"?'],
  ['recurrent "lstm"', adam, () => ({ recurrent: 'lstm' }), 'recurrent must be true, false or an object of every, squarings, got "lstm"'],
  ['recurrent { every: 0 }', adam, () => ({ recurrent: { every: 0 } }), 'guard: recurrent.every must be an integer >= 1, got 0'],
  ['recurrent { squarings: Infinity }', adam, () => ({ recurrent: { squarings: Infinity } }), 'guard: recurrent.squarings must be an integer >= 1, got Infinity'],
  ['recurrent { every: 10, deep }', adam, () => ({ recurrent: { every: 10, nested: deep(10_000) } }), 'guard: unknown key in recurrent "nested"'],
];

describe('checkGuardArguments: careless calls of guard(optimizer, options)', () => {
  it.each(GUARD_CASES.map((c) => [c[0], c] as const))('%s', (_, [, optimizer, options, text]) => {
    let error: unknown;
    try {
      checkGuardArguments(optimizer(), options());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradguardError);
    expect((error as GradguardError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toContain(text);
  });

  it('accepts every valid shape of the options', () => {
    const ok: unknown[] = [
      undefined,
      {},
      { transform: clipByGlobalNorm(1), monitor: createMonitor(), model: model(), statsEvery: 10, onStep: () => undefined },
      { learningRate: controlLearningRate({ warmup: { steps: 10 } }), rollback: true, recurrent: false },
      { rollback: { every: 20, learningRateFactor: 0.5, maxRollbacks: 2 }, recurrent: { every: 5, squarings: 8 } },
      { transform: undefined, monitor: undefined },
    ];
    for (const o of ok) expect(() => checkGuardArguments(adam(), o)).not.toThrow();
  });

  it('lists the allowed keys in one exported constant', () => {
    expect(GUARD_OPTION_KEYS).toEqual([
      'transform', 'monitor', 'model', 'statsEvery', 'weightsEvery', 'onStep', 'learningRate', 'rollback', 'recurrent', 'kernel', 'clipnorm', 'clipvalue', 'globalClipnorm', 'print',
      'replayNonFiniteOn', 'onReplay', 'histogram',
    ]);
  });
});
