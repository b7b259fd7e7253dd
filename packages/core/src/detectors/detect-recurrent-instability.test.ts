import { describe, expect, it } from 'vitest';
import type { RecurrentStatistics } from '../run-log/statistics';
import { makeStep } from '../test/streams';
import { detectRecurrentInstability } from './detect-recurrent-instability';

const spectrum = (className: string, gate: string, r: number): RecurrentStatistics => ({
  layer: 'rnn',
  className,
  gate,
  spectralRadius: r,
  maxSingularValue: r * 1.1,
  timeSteps: 50,
});

describe('detectRecurrentInstability', () => {
  it('warns for a SimpleRNN with r > 1 and explains r^T; critical once its gradients are huge', () => {
    const d = detectRecurrentInstability();
    const [f] = d.observe(makeStep(0, [{ layer: 'rnn', norm: 2 }], { recurrent: [spectrum('SimpleRNN', 'all', 1.5)] }));
    expect(f).toMatchObject({ problem: 'recurrent-instability', severity: 'warning', layer: 'rnn' });
    expect(f!.message).toBe(
      'Layer "rnn": recurrent kernel spectral radius r = 1.5 > 1: gradients through T = 50 steps can grow like r^T = 6.38e+8. Its gradient norm is now 2.',
    );
    expect(f!.evidence.growthBound).toBeCloseTo(1.5 ** 50, -2);
    // The spectra are kept until the next measurement: this step has none.
    const [g] = d.observe(makeStep(1, [{ layer: 'rnn', norm: 5e3 }]));
    expect(g!.severity).toBe('critical');
    expect(g!.advice.map((a) => a.remedy)).toEqual(['betterInitialization', 'clipByGlobalNorm', 'useLstm', 'addWeightDecay']);
    // On a clipped step (scale < 1) the advice is about the kernel, not clipping again.
    const [h] = d.observe(makeStep(2, [{ layer: 'rnn', norm: 5e3 }], { scale: 2e-4, postClipNorm: 1 }));
    expect(h!.advice.map((a) => a.remedy)).toEqual(['betterInitialization', 'useLstm', 'addWeightDecay']);
  });

  it('is silent within the tolerance and for gated layers whose gradients are calm', () => {
    const d = detectRecurrentInstability();
    expect(d.observe(makeStep(0, [{ layer: 'rnn', norm: 2 }], { recurrent: [spectrum('SimpleRNN', 'all', 1.005)] }))).toEqual([]);
    const lstm = ['i', 'f', 'c', 'o'].map((g, k) => spectrum('LSTM', g, 1 + k * 0.3));
    expect(d.observe(makeStep(1, [{ layer: 'rnn', norm: 0.3 }], { recurrent: lstm }))).toEqual([]);
    const [f] = d.observe(makeStep(2, [{ layer: 'rnn', norm: Number.NaN }]));
    expect(f).toMatchObject({ severity: 'critical', evidence: { gate: 'o' } }); // the worst gate
  });

  it('is silent while r^T stays under minGrowth (100): a trained gain-1 kernel at r = 1.02 over T = 20 grows 1.49×', () => {
    const at = (r: number, T: number): RecurrentStatistics => ({ layer: 'rnn', className: 'SimpleRNN', gate: 'all', spectralRadius: r, maxSingularValue: r, timeSteps: T });
    const observe = (r: number, T: number) => detectRecurrentInstability().observe(makeStep(0, [{ layer: 'rnn', norm: 0.5 }], { recurrent: [at(r, T)] }));
    expect(observe(1.02, 20)).toEqual([]);
    // The casebook's healthy jena-weather SimpleRNN at step 15 (seed 1): r = 1.102 over T = 24, 10.3×, and it learns.
    expect(observe(1.102, 24)).toEqual([]);
    expect(observe(1.05, 94)).toEqual([]); // 1.05^94 = 98.5
    expect(observe(1.05, 95)).toMatchObject([{ problem: 'recurrent-instability', evidence: { timeSteps: 95 } }]); // 103.4
    // Pascanu's adding problem (ReLU SimpleRNN at r = 1.2, T = 50): 1.2^50 = 9.1e3, well above.
    expect(observe(1.2, 50)).toMatchObject([{ problem: 'recurrent-instability', severity: 'warning' }]);
    expect(detectRecurrentInstability({ minGrowth: 1 }).observe(makeStep(0, [{ layer: 'rnn', norm: 0.5 }], { recurrent: [at(1.02, 20)] }))).toHaveLength(1);
  });

  it('vanishing through time: a SimpleRNN with σ^(T−1) ≤ 1e-6 is a vanishing-gradient warning; σ near 1, short T or gates are silent', () => {
    const at = (sigma: number, T: number | undefined, className = 'SimpleRNN'): RecurrentStatistics => ({
      layer: 'rnn',
      className,
      gate: className === 'SimpleRNN' ? 'all' : 'f',
      spectralRadius: sigma * 0.9,
      maxSingularValue: sigma,
      ...(T !== undefined ? { timeSteps: T } : {}),
    });
    const observe = (r: RecurrentStatistics) => detectRecurrentInstability().observe(makeStep(0, [{ layer: 'rnn', norm: 0.3 }], { recurrent: [r] }));
    // Orthogonal gain 0.5 over T = 100 (the suite's long-sequence scenario): 0.5^99 ≈ 1.6e-30.
    const [f] = observe(at(0.5, 100));
    expect(f).toMatchObject({ problem: 'vanishing-gradient', severity: 'warning', layer: 'rnn', evidence: { timeSteps: 100, maxSingularValue: 0.5 } });
    expect((f!.evidence as { timeGradientBound: number }).timeGradientBound).toBeCloseTo(0.5 ** 99, 40);
    expect(f!.message).toBe(
      'Layer "rnn" (SimpleRNN): the recurrent kernel\'s largest singular value is σ = 0.5 < 1, so the gradient reaching the first of its T = 100 steps is at most σ^99 = 1.58e-30 of the last step\'s: it cannot learn dependencies that far back.',
    );
    // The boundary: 0.5^19 = 1.9e-6 is above 1e-6 (silent), 0.5^20 = 9.5e-7 is below (fires).
    expect(observe(at(0.5, 20))).toEqual([]);
    expect(observe(at(0.5, 21))).toHaveLength(1);
    // A healthy kernel (σ ≈ 1), an unknown T, or a gated cell: nothing.
    expect(observe(at(0.98, 100))).toEqual([]);
    expect(observe(at(0.5, undefined))).toEqual([]);
    expect(observe(at(0.5, 100, 'LSTM'))).toEqual([]);
    // Turned off.
    expect(detectRecurrentInstability({ vanishingBound: 0 }).observe(makeStep(0, [{ layer: 'rnn', norm: 0.3 }], { recurrent: [at(0.5, 100)] }))).toEqual([]);
  });
});
