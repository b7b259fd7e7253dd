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
  });

  it('is silent within the tolerance and for gated layers whose gradients are calm', () => {
    const d = detectRecurrentInstability();
    expect(d.observe(makeStep(0, [{ layer: 'rnn', norm: 2 }], { recurrent: [spectrum('SimpleRNN', 'all', 1.005)] }))).toEqual([]);
    const lstm = ['i', 'f', 'c', 'o'].map((g, k) => spectrum('LSTM', g, 1 + k * 0.3));
    expect(d.observe(makeStep(1, [{ layer: 'rnn', norm: 0.3 }], { recurrent: lstm }))).toEqual([]);
    const [f] = d.observe(makeStep(2, [{ layer: 'rnn', norm: Number.NaN }]));
    expect(f).toMatchObject({ severity: 'critical', evidence: { gate: 'o' } }); // the worst gate
  });
});
