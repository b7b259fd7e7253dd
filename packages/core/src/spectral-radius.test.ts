import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRadius, recurrentSpectra, spectralRadius } from './spectral-radius';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Largest singular value of a 2×2 matrix, closed form: sqrt of the larger eigenvalue of AᵀA. */
function sigma2x2(a: number, b: number, c: number, d: number): number {
  const p = a * a + c * c;
  const q = a * b + c * d;
  const r = b * b + d * d;
  return Math.sqrt((p + r) / 2 + Math.sqrt(((p - r) / 2) ** 2 + q * q));
}

describe('spectralRadius', () => {
  it('matches an explicit non-normal 2×2 matrix (radius 1.2 from the triangle, σ from the closed form)', async () => {
    const a = tf.tensor2d([[0.9, 2], [0, 1.2]]);
    const [r] = await expectNoLeak(() => spectralRadius(a));
    a.dispose();
    expect(Math.abs(r!.spectralRadius - 1.2)).toBeLessThan(1e-3);
    expect(Math.abs(r!.maxSingularValue - sigma2x2(0.9, 2, 0, 1.2))).toBeLessThan(1e-3);
    expect(r!.maxSingularValue).toBeGreaterThan(2.2); // far above the radius: one step can stretch a lot
  });

  it('matches a diagonal matrix (radius = largest |entry|, negative included)', async () => {
    const [r] = await spectralRadius(tf.tensor2d([[0.3, 0, 0], [0, -1.7, 0], [0, 0, 0.5]]));
    expect(Math.abs(r!.spectralRadius - 1.7)).toBeLessThan(1e-3);
    expect(Math.abs(r!.maxSingularValue - 1.7)).toBeLessThan(1e-3);
  });

  it('matches a rotation times a gain (complex eigenvalues 1.3·e^{±iθ}) and a random orthogonal × 1.5', async () => {
    const th = 0.7;
    const rot = tf.tensor2d([[Math.cos(th), -Math.sin(th)], [Math.sin(th), Math.cos(th)]]).mul(1.3);
    const q = tf.initializers.orthogonal({ gain: 1.5, seed: 3 }).apply([32, 32]);
    const [a] = await spectralRadius(rot);
    const [b] = await spectralRadius(q);
    expect(Math.abs(a!.spectralRadius - 1.3)).toBeLessThan(1e-3);
    expect(Math.abs(a!.maxSingularValue - 1.3)).toBeLessThan(1e-3);
    expect(Math.abs(b!.spectralRadius - 1.5)).toBeLessThan(1e-3);
    expect(Math.abs(b!.maxSingularValue - 1.5)).toBeLessThan(1e-3);
    tf.dispose([rot, q]);
  });

  it('handles a defective Jordan block, a nilpotent and a zero matrix, and a batch', async () => {
    const batch = tf.tensor3d([
      [[1, 1], [0, 1]], // radius 1 though ‖A^k‖ grows like k
      [[0, 1], [0, 0]], // nilpotent: radius 0, σ 1
      [[0, 0], [0, 0]],
    ]);
    const [jordan, nil, zero] = await spectralRadius(batch);
    expect(Math.abs(jordan!.spectralRadius - 1)).toBeLessThan(1e-3);
    expect(Math.abs(jordan!.maxSingularValue - sigma2x2(1, 1, 0, 1))).toBeLessThan(1e-3);
    expect(nil).toEqual({ spectralRadius: 0, maxSingularValue: 1 });
    expect(zero).toEqual({ spectralRadius: 0, maxSingularValue: 0 });
    batch.dispose();
  });

  it('decodes NaN weights as NaN and rejects non-square input', async () => {
    expect(decodeRadius([Number.NaN, Number.NaN])).toBeNaN();
    const m = tf.ones([2, 3]);
    await expect(spectralRadius(m)).rejects.toThrow(/matrices must be square, got \[2, 3\]/);
    await expect(spectralRadius(tf.ones([2, 2]), { squarings: 0 })).rejects.toThrow(/squarings must be an integer >= 1/);
    m.dispose();
  });
});

describe('recurrentSpectra', () => {
  it('measures SimpleRNN, each LSTM gate (i,f,c,o) and each GRU gate (z,r,h) against the per-gate reference', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 6, inputShape: [9, 2], returnSequences: true, name: 'srnn', recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 1 }) }),
        tf.layers.lstm({ units: 4, returnSequences: true, name: 'lstm' }),
        tf.layers.gru({ units: 3, name: 'gru' }),
        tf.layers.dense({ units: 1, name: 'head' }),
      ],
    });
    // Give the LSTM gates known diagonal matrices: gate g gets diag(g+0.5, …) so its radius is g + 0.5 + 0.3.
    const known = tf.tidy(() => tf.concat([0, 1, 2, 3].map((g) => tf.diag(tf.tensor1d([g + 0.5, 0.1, -(g + 0.8), 0.2]))), 1));
    const lstmW = model.getLayer('lstm').getWeights(); // the live variables: not ours to dispose
    model.getLayer('lstm').setWeights([lstmW[0]!, known, lstmW[2]!]);
    const stats = await expectNoLeak(() => recurrentSpectra(model));
    expect(stats.map((s) => `${s.layer}:${s.gate}`)).toEqual(['srnn:all', 'lstm:i', 'lstm:f', 'lstm:c', 'lstm:o', 'gru:z', 'gru:r', 'gru:h']);
    expect(stats[0]).toMatchObject({ className: 'SimpleRNN', timeSteps: 9 });
    expect(Math.abs(stats[0]!.spectralRadius - 1.5)).toBeLessThan(1e-3);
    for (let g = 0; g < 4; g++) expect(Math.abs(stats[1 + g]!.spectralRadius - (g + 0.8))).toBeLessThan(1e-3);
    // GRU reference: each [3, 3] gate block measured alone.
    const gruK = model.getLayer('gru').getWeights()[1]!; // live variable
    for (let g = 0; g < 3; g++) {
      const block = gruK.slice([0, 3 * g], [3, 3]);
      const [ref] = await spectralRadius(block);
      expect(Math.abs(stats[5 + g]!.spectralRadius - ref!.spectralRadius)).toBeLessThan(1e-3);
      expect(Math.abs(stats[5 + g]!.maxSingularValue - ref!.maxSingularValue)).toBeLessThan(1e-3);
      block.dispose();
    }
    known.dispose();
    model.dispose();
  });
});
