import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptiveGradClip } from './adaptive-grad-clip';
import { autoClip } from './auto-clip';
import { clipByGlobalNorm } from './clip-by-global-norm';
import { clipByNorm } from './clip-by-norm';
import { clipByValue } from './clip-by-value';
import { spikeClip } from './spike-clip';
import { trainExplodingMlp, trainExplodingRnn, trainWithSpike } from './test/fixtures';
import type { GradientTransformation } from './transformation';
import { zClip } from './z-clip';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Real explosions, not synthetic tensors. The fixed clippers bound every step; the adaptive ones (AutoClip, ZClip)
 * learn their bound from the run's history, so for a run that explodes at its very first step they are given the
 * ceiling their authors pair them with (ZClip's max_grad_norm; the same `maxNorm` for AutoClip).
 */
const CLIPPERS: Record<string, () => GradientTransformation> = {
  clipByValue: () => clipByValue(0.01),
  clipByNorm: () => clipByNorm(1),
  clipByGlobalNorm: () => clipByGlobalNorm(1),
  adaptiveGradClip: () => adaptiveGradClip(0.01),
  autoClip: () => autoClip({ maxNorm: 1 }),
  zClip: () => zClip({ maxNorm: 1 }),
};

describe('clipping keeps real exploding runs finite', () => {
  it('unclipped, both fixtures explode to NaN', async () => {
    const rnn = await trainExplodingRnn({}, 1);
    expect(rnn.weightsFinite).toBe(false);
    expect(rnn.steps[0]!.preClipNorm).toBeGreaterThan(1e6);
    const mlp = await trainExplodingMlp({}, 1);
    expect(mlp.weightsFinite).toBe(false);
    expect(mlp.steps[0]!.preClipNorm).toBeGreaterThan(1e6);
  });

  for (const [name, make] of Object.entries(CLIPPERS)) {
    it(`${name}: the gain-1.5 SimpleRNN (T = 50, SGD 0.1) and the over-initialised deep ReLU MLP stay finite`, async () => {
      const rnn = await trainExplodingRnn({ transform: make() }, 1);
      expect(rnn.weightsFinite).toBe(true);
      expect(rnn.losses.every(Number.isFinite)).toBe(true);
      expect(rnn.steps[0]!.preClipNorm).toBeGreaterThan(1e6); // the raw gradients really exploded
      expect(rnn.steps[0]!.scale).toBeLessThan(1e-5); // and were cut down
      const mlp = await trainExplodingMlp({ transform: make() }, 2);
      expect(mlp.weightsFinite).toBe(true);
      expect(mlp.losses.every(Number.isFinite)).toBe(true);
      expect(mlp.losses[1]!).toBeLessThan(mlp.losses[0]!);
    });
  }

  it('adaptive clippers with their paper defaults contain a mid-run spike that kills the unclipped run', async () => {
    const none = await trainWithSpike({});
    expect(none.weightsFinite).toBe(false);
    for (const t of [autoClip(), zClip()]) {
      const run = await trainWithSpike({ transform: t });
      expect(run.weightsFinite).toBe(true);
      expect(run.steps[30]!.preClipNorm).toBeGreaterThan(1e3); // the outlier batch
      expect(run.steps[30]!.scale).toBeLessThan(0.01);
      expect(run.losses.at(-1)!).toBeLessThan(0.5);
    }
  });

  it('spikeClip contains the spike with SGD when θ suits SGD (θ = 10); the Adam-tuned default θ = 5000 does not', async () => {
    const tuned = await trainWithSpike({ transform: spikeClip({ threshold: 10 }) });
    expect(tuned.weightsFinite).toBe(true);
    expect(tuned.losses.at(-1)!).toBeLessThan(0.5);
    const paper = await trainWithSpike({ transform: spikeClip() });
    expect(paper.weightsFinite).toBe(false); // documented: sqrt(5000) ≈ 70× the RMS still passes, and SGD is not normalised
  });
});
