import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, checkNumber, checkOptions, describeValue } from '@gradguard/core';
import type { GradientTransformation } from './transformation';
import { chain } from './chain';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { clipByNorm } from './clip-by-norm';
import { clipByValue } from './clip-by-value';
import type { GuardOptions } from './guard-types';
import { readLearningRate } from './learning-rate';
import { OPTIMIZER_NAMES, optimizerFromName } from './optimizer-names';

/**
 * The options `guard(optimizer, options)` accepts. Exported so that a new option is added in one place; an unknown key
 * (a misspelt `statsEvry`) is an error rather than silently ignored.
 */
export const GUARD_OPTION_KEYS: string[] = [
  'transform', 'monitor', 'model', 'statsEvery', 'weightsEvery', 'onStep', 'learningRate', 'rollback', 'recurrent', 'kernel', 'clipnorm', 'clipvalue', 'globalClipnorm', 'print',
  'replayNonFiniteOn', 'onReplay', 'histogram',
];

const ROLLBACK_KEYS = ['every', 'learningRateFactor', 'maxRollbacks'] as const;
const RECURRENT_KEYS = ['every', 'squarings'] as const;
const HISTOGRAM_KEYS = ['every', 'bins', 'minLog10', 'maxLog10'] as const;

/** The brand `guard` puts on the optimizers it returns. */
const GUARDED = Symbol.for('gradguard.guarded');

const bad = (message: string, hint: string): GradguardError => new GradguardError('INVALID_ARGUMENT', `guard: ${message}`, hint);

/**
 * Checks everything `guard(optimizer, options)` is given, before anything is built, so that a careless call fails
 * where it is made with the value and the fix, not as a TypeError at the first training step. Throws a
 * `GradguardError` (`INVALID_ARGUMENT`); returns nothing.
 */
export function checkGuardArguments(optimizer: unknown, options: unknown): void {
  checkOptimizer(optimizer);
  if (options === undefined) return;
  checkOptions('guard', options as object, GUARD_OPTION_KEYS);
  const o = options as Record<string, unknown>;
  const { transform, monitor, model, onStep, learningRate } = o;
  if (transform !== undefined) checkTransform(transform);
  if (monitor !== undefined && !hasMethods(monitor, ['observe'])) {
    throw bad(
      `monitor must be a monitor (an object with observe(step)), got ${describeValue(monitor)}.`,
      'Create one with createMonitor() from @gradguard/core.',
    );
  }
  if (model !== undefined) {
    const layers = (model as { layers?: unknown } | null)?.layers;
    if (typeof model !== 'object' || model === null || !Array.isArray(layers)) {
      throw bad(
        `model must be a tfjs LayersModel (with .layers), got ${describeValue(model)}${typeof model === 'object' && model !== null ? ' without a layers array' : ''}.`,
        'Pass the model you train, e.g. the result of tf.sequential() or tf.model(); a tf.GraphModel cannot be trained.',
      );
    }
  }
  if (o.statsEvery !== undefined) checkNumber('guard', 'statsEvery', o.statsEvery, { min: 1, integer: true });
  if (o.weightsEvery !== undefined) checkNumber('guard', 'weightsEvery', o.weightsEvery, { min: 1, integer: true });
  if (o.histogram !== undefined && typeof o.histogram !== 'boolean') {
    if (typeof o.histogram !== 'object' || o.histogram === null) {
      throw bad(`histogram must be true, false or { every, bins, minLog10, maxLog10 }, got ${describeValue(o.histogram)}.`, 'Pass histogram: { every: 100 } for per-layer gradient histograms every 100 measured steps.');
    }
    checkOptions('guard: histogram', o.histogram, HISTOGRAM_KEYS);
    const h = o.histogram as Record<string, unknown>;
    if (h.every !== undefined) checkNumber('guard', 'histogram.every', h.every, { min: 1, integer: true });
  }
  if (onStep !== undefined && typeof onStep !== 'function') {
    throw bad(`onStep must be a function, got ${describeValue(onStep)}.`, 'Pass (stats) => { ... }, called with each step\'s statistics.');
  }
  if (learningRate !== undefined && !hasMethods(learningRate, ['rateAt', 'observe'])) {
    throw bad(
      `learningRate must be a learning-rate control, got ${describeValue(learningRate)}.`,
      typeof learningRate === 'number'
        ? 'Set the rate on the optimizer (tf.train.adam(1e-3)); learningRate here takes controlLearningRate({ warmup, backoff }).'
        : 'Create one with controlLearningRate({ warmup: { steps: 100 }, backoff: {} }).',
    );
  }
  const shorthands = (['clipnorm', 'clipvalue', 'globalClipnorm'] as const).filter((k) => o[k] !== undefined);
  if (shorthands.length > 1) {
    throw bad(`give one of clipnorm, clipvalue and globalClipnorm, got ${shorthands.join(' and ')}.`, 'Chain several clips explicitly instead: transform: chain(clipByValue(5), clipByGlobalNorm(1)).');
  }
  for (const k of shorthands) checkNumber('guard', k, o[k], { exclusiveMin: 0 });
  if (o.print !== undefined && o.print !== 'none' && o.print !== 'critical' && o.print !== 'warning') {
    throw bad(`print must be 'none', 'critical' or 'warning', got ${describeValue(o.print)}.`, "Leave it out to print critical diagnoses, or 'none' when a sink shows them.");
  }
  if (o.kernel !== undefined && o.kernel !== 'auto' && o.kernel !== 'device') {
    throw bad(`kernel must be 'auto' or 'device', got ${describeValue(o.kernel)}.`, "Leave it out ('auto'): the fastest statistics path for the active backend.");
  }
  if (o.replayNonFiniteOn !== undefined && (typeof o.replayNonFiniteOn !== 'string' || tf.findBackendFactory(o.replayNonFiniteOn) == null)) {
    throw bad(
      `replayNonFiniteOn must name a registered backend, got ${describeValue(o.replayNonFiniteOn)}.`,
      "Use 'cpu' (always registered with @tensorflow/tfjs), or import the backend's package first.",
    );
  }
  if (o.onReplay !== undefined && typeof o.onReplay !== 'function') {
    throw bad(`onReplay must be a function, got ${describeValue(o.onReplay)}.`, "Pass (replay) => { ... }, called with each replay's verdict.");
  }
  if (learningRate !== undefined && (learningRate as { needsMonitor?: boolean }).needsMonitor && monitor === undefined) {
    throw bad('learning-rate back-off reacts to diagnoses, but no monitor was given.', 'Pass one: guard(optimizer, { monitor: createMonitor(), learningRate }), or drop `backoff`.');
  }
  const named = typeof optimizer === 'string' ? optimizerFromName(optimizer) : undefined;
  const lrOf = named ?? (optimizer as tf.Optimizer);
  const noRate = (learningRate !== undefined || (o.rollback !== undefined && o.rollback !== false)) && readLearningRate(lrOf) === undefined;
  named?.dispose();
  if (noRate) {
    throw bad(
      `learning-rate control and rollback need an optimizer with a numeric learningRate; ${lrOf.getClassName()} has none.`,
      'Use a built-in tfjs optimizer (sgd, momentum, adam, adamax, adagrad, adadelta, rmsprop), or drop `learningRate` and `rollback`.',
    );
  }
  checkFlagOrObject('rollback', o.rollback, ROLLBACK_KEYS, {
    every: { min: 1, integer: true },
    learningRateFactor: { exclusiveMin: 0, max: 1 },
    maxRollbacks: { min: 1, integer: true },
  });
  checkFlagOrObject('recurrent', o.recurrent, RECURRENT_KEYS, {
    every: { min: 1, integer: true },
    squarings: { min: 1, integer: true },
  });
}

function checkOptimizer(optimizer: unknown): void {
  if (typeof optimizer === 'string' && optimizerFromName(optimizer) !== undefined) return;
  if (optimizer === null || optimizer === undefined || typeof optimizer !== 'object') {
    throw bad(
      `expected a tf.Optimizer or an optimizer name, got ${describeValue(optimizer)}.`,
      typeof optimizer === 'string'
        ? `Use a name model.compile knows (${OPTIMIZER_NAMES.join(', ')}) or make the optimizer, e.g. guard(tf.train.adam(0.001)).`
        : 'Pass an optimizer such as tf.train.adam(1e-3), or a name such as \'adam\'.',
    );
  }
  if ((optimizer as { [GUARDED]?: unknown })[GUARDED] === true) {
    throw bad('the optimizer is already guarded.', 'Chain transformations with chain(...) instead of guarding twice.');
  }
  // Duck-typed, like tf.Optimizer's own instanceof, so a second copy of tfjs-core still passes.
  if (!(optimizer instanceof tf.Optimizer) || !hasMethods(optimizer, ['applyGradients', 'computeGradients', 'minimize'])) {
    throw bad(
      `expected a tf.Optimizer, got ${describeValue(optimizer)}.`,
      'Pass an optimizer such as tf.train.adam(1e-3), not a model, a compiled model\'s config or an optimizer name. ' +
        'If you passed one, two copies of @tensorflow/tfjs-core may be installed: dedupe them.',
    );
  }
}

function checkTransform(transform: unknown): void {
  if (!hasMethods(transform, ['init', 'update'])) {
    throw bad(
      `transform must be a gradient transformation (an object with init(params) and update(grads, state, params)), got ${describeValue(transform)}${typeof transform === 'function' ? ' (a factory not called?)' : ''}.`,
      typeof transform === 'function'
        ? 'Call the factory: transform: clipByGlobalNorm(1), not clipByGlobalNorm.'
        : 'Use a factory such as clipByGlobalNorm(1), or chain(...) several.',
    );
  }
}

/** `true`, `false`, or an object of the allowed numeric keys. */
function checkFlagOrObject(
  name: string,
  value: unknown,
  keys: readonly string[],
  rules: Readonly<Record<string, Parameters<typeof checkNumber>[3]>>,
): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(`${name} must be true, false or an object of ${keys.join(', ')}, got ${describeValue(value)}.`, `E.g. ${name}: true, or ${name}: { ${keys[0]}: 10 }.`);
  }
  checkOptions('guard', value as object, keys, name);
  for (const [k, v] of Object.entries(value)) if (v !== undefined) checkNumber('guard', `${name}.${k}`, v, rules[k]!);
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/** `transform` followed by the Keras-style clip shorthand, if one is given. */
export function withKerasClip(o: GuardOptions): GradientTransformation | undefined {
  const clip = o.clipnorm !== undefined ? clipByNorm(o.clipnorm) : o.clipvalue !== undefined ? clipByValue(o.clipvalue) : o.globalClipnorm !== undefined ? clipByGlobalNorm(o.globalClipnorm) : undefined;
  return clip && o.transform ? chain(o.transform, clip) : (clip ?? o.transform);
}
