/**
 * The configurations compared, each a way to build the optimizer a fresh model trains with. `bare` is the reference;
 * `naive` is what people write by hand when tfjs gives them no gradient monitoring.
 */
import * as tf from '@tensorflow/tfjs';
import { createMonitor } from '@gradguard/core';
import { type GradientTransformation, type GuardedOptimizer, chain, clipByGlobalNorm, disposeState, guard, skipNonFinite } from '@gradguard/mitigations';
import { type Recorder, createRecorder } from '@gradguard/reporter';
import { createJsonlFileSink } from '@gradguard/reporter/node';

export const LEARNING_RATE = 1e-3;

export const CONFIG_NAMES = ['bare', 'watch', 'clip', 'skip+clip', 'skip+clip+rollback', 'naive'] as const;
export type ConfigName = (typeof CONFIG_NAMES)[number];

export function checkConfigName(name: string): ConfigName {
  if (!(CONFIG_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown configuration ${JSON.stringify(name)}; choose from ${CONFIG_NAMES.join(', ')}.`);
  }
  return name as ConfigName;
}

/**
 * The hand-written approach: Adam whose `applyGradients` reads every gradient's L2 norm back with one blocking
 * `tf.norm(g).dataSync()` per variable, every step, before applying.
 */
export class NaiveNormAdam extends tf.AdamOptimizer {
  /** The norms of the last step, by variable name. */
  readonly norms = new Map<string, number>();

  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor] as const)
      : Object.entries(variableGradients as tf.NamedTensorMap);
    for (const [name, g] of entries) {
      const n = tf.norm(g);
      // eslint-disable-next-line no-restricted-properties -- the blocking per-variable readback is what this baseline measures
      this.norms.set(name, n.dataSync()[0]!);
      n.dispose();
    }
    super.applyGradients(variableGradients);
  }
}

/** One configuration's optimizer for one run, with what must happen at the end of the run. */
export interface ConfiguredRun {
  readonly optimizer: tf.Optimizer;
  readonly guarded: GuardedOptimizer | undefined;
  /** Inside the timed region: waits for the run's asynchronous readbacks (guard's flush). */
  finish(): Promise<void>;
  /** Outside the timed region: ends the run log and frees the optimizer's tensors. */
  close(): Promise<void>;
}

export interface ConfigureOptions {
  readonly model: tf.LayersModel;
  readonly backend: string;
  /** Where the run log of a guarded configuration goes. */
  readonly logPath: string;
}

function transformFor(name: ConfigName): GradientTransformation | undefined {
  switch (name) {
    case 'clip':
      return clipByGlobalNorm(1);
    case 'skip+clip':
    case 'skip+clip+rollback':
      return chain(skipNonFinite(), clipByGlobalNorm(1));
    default:
      return undefined;
  }
}

/** guard(adam, { monitor, model, ...policy }) with a recorder writing a JSONL run log, as `gradguard train` wires it. */
export function guardedAdam(options: ConfigureOptions & { transform?: GradientTransformation; rollback?: boolean; name: string }): ConfiguredRun {
  const inner = tf.train.adam(LEARNING_RATE);
  const guarded = guard(inner, {
    monitor: createMonitor(),
    print: 'none', // the run log holds the diagnoses
    model: options.model,
    ...(options.transform ? { transform: options.transform } : {}),
    ...(options.rollback ? { rollback: true } : {}),
  });
  const recorder: Recorder = createRecorder({
    name: `bench ${options.name}`,
    sinks: [createJsonlFileSink(options.logPath)],
    model: options.model,
    backend: options.backend,
    config: { bench: options.name },
  });
  const unwatch = recorder.watch(guarded);
  return {
    optimizer: guarded,
    guarded,
    finish: () => guarded.flush(),
    close: async () => {
      await guarded.flush();
      unwatch();
      await recorder.end('completed');
      const state = guarded.transformState;
      if (state !== undefined) disposeState(state);
      inner.dispose();
      guarded.dispose();
    },
  };
}

export function configure(name: ConfigName, options: ConfigureOptions): ConfiguredRun {
  if (name === 'bare' || name === 'naive') {
    const optimizer = name === 'bare' ? tf.train.adam(LEARNING_RATE) : new NaiveNormAdam(LEARNING_RATE);
    return {
      optimizer,
      guarded: undefined,
      finish: async () => {},
      close: async () => optimizer.dispose(),
    };
  }
  const transform = transformFor(name);
  return guardedAdam({ ...options, name, ...(transform ? { transform } : {}), rollback: name === 'skip+clip+rollback' });
}
