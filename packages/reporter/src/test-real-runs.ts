import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { type StepStatistics, createGradientMeter, createMonitor, createReadback } from '@gradguard/core';
import type { RunLog } from '@gradguard/core/run-log';
import { getScenario, runScenario } from '@gradguard/models';
import { createMemorySink } from './memory-sink';
import { createRecorder } from './recorder';

// Real training runs for the picture tests (not exported by the package): a scenario of @gradguard/models trained on
// the cpu backend, every step measured by core's gradient meter (per layer) and watched by core's monitor.

/** An optimizer that hands every step's gradients to `seen` (before they are applied), then lets `inner` apply them. */
class Watching extends tf.Optimizer {
  static get className(): string {
    return 'GradguardTestWatching';
  }
  constructor(
    private readonly inner: tf.Optimizer,
    private readonly seen: (grads: tf.NamedTensorMap) => void,
  ) {
    super();
  }
  applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    this.seen(Array.isArray(grads) ? Object.fromEntries(grads.map((g) => [g.name, g.tensor])) : grads);
    this.inner.applyGradients(grads);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

/**
 * `exploding-mlp-high-lr` (3-layer tanh MLP, SGD): at the scenario's lr 1 every step overshoots, the norms grow
 * geometrically and the loss turns Infinity/NaN by step ~15; at `learningRate` 0.1 it trains. Stops `after` steps past
 * the first non-finite one. Returns the run log, as a recorder with a memory sink wrote it.
 */
export async function realMlpRun(learningRate: number, options: { seed?: number; steps?: number; after?: number } = {}): Promise<RunLog> {
  await tf.setBackend('cpu');
  const base = getScenario('exploding-mlp-high-lr');
  const scenario = { ...base, optimizer: { name: 'sgd' as const, learningRate }, seed: options.seed ?? base.seed, steps: options.steps ?? 40 };
  const memory = createMemorySink();
  const recorder = createRecorder({ name: `mlp lr ${learningRate}`, sinks: [memory], backend: 'cpu', config: { optimizer: 'sgd', learningRate } });
  const monitor = createMonitor();
  let meter: ReturnType<typeof createGradientMeter> | undefined;
  let pending: StepStatistics | undefined;
  let step = 0;
  let bad = -1;
  await runScenario(scenario, {
    stopOnNonFinite: false,
    optimizerFactory: (optimizer, { model }) => {
      meter = createGradientMeter({ model });
      return new Watching(optimizer, (grads) => {
        const readback = createReadback('host');
        const measured = meter!.measure(grads, readback);
        const stats = measured.decode(readback.readSync());
        readback.dispose();
        pending = { ...stats, step, preClipNorm: stats.globalNorm, postClipNorm: stats.globalNorm, scale: 1, skipped: false, learningRate };
      });
    },
    onStep: ({ loss }) => {
      const s: StepStatistics = { ...pending!, loss };
      recorder.step(s);
      for (const d of monitor.observe(s)) recorder.diagnosis(d);
      if (bad < 0 && (!Number.isFinite(loss) || s.nonFinite > 0)) bad = step;
      step++;
      return bad >= 0 && step > bad + (options.after ?? 4) ? 'stop' : undefined;
    },
  });
  await recorder.end(bad >= 0 ? 'stopped' : 'completed');
  return memory.log;
}
