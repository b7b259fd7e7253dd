import { describe, expect, it } from 'vitest';
import { OTHER_LAYERS, chartData, plotValue } from './chart-data';
import { diagnosisOf, guardedRun, headerOf, stepOf, unguardedRun } from './test-runs';

describe('chartData', () => {
  it('lays one run out as uPlot columns: NaN becomes a gap and a shaded step, diagnoses become marks', () => {
    const d = chartData([unguardedRun]);
    expect(d.steps).toEqual([0, 1, 2]);
    expect(d.loss.map((s) => [s.label, s.values])).toEqual([['loss', [1, 0.5, null]]]);
    // transform none: the config's maxNorm is not a bound of this run, so no clip-bound line.
    expect(d.norm.map((s) => [s.label, s.kind, s.values])).toEqual([
      ['pre-clip ‖g‖', 'pre-clip', [2, 8, null]],
      ['post-clip ‖g‖', 'post-clip', [2, 8, null]],
    ]);
    expect(d.layers.map((s) => [s.label, s.layer, s.values])).toEqual([
      ['rnn', 'rnn', [1.6, 6.4, null]],
      ['head', 'head', [2 * 0.6, 8 * 0.6, null]],
    ]);
    expect(d.bad).toEqual([{ run: 0, step: 2 }]);
    expect(d.marks).toEqual([{ run: 0, step: 1, severity: 'critical' }]);
    expect(d.lossPositive).toBe(true);
    // The HTML report embeds the data as JSON: it survives the round trip unchanged.
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('overlays two runs on the union of their steps, with the clip bound of the clipped run only', () => {
    const d = chartData([unguardedRun, guardedRun], ['u', 'g']);
    expect(d.steps).toEqual([0, 1, 2, 3, 4]);
    expect(d.loss.map((s) => [s.label, s.run, s.values])).toEqual([
      ['u: loss', 0, [1, 0.5, null, null, null]],
      ['g: loss', 1, [1, 0.5, 1 / 3, 0.25, 0.2]],
    ]);
    expect(d.norm.map((s) => s.label)).toEqual(['u: pre-clip ‖g‖', 'u: post-clip ‖g‖', 'g: pre-clip ‖g‖', 'g: post-clip ‖g‖', 'g: clip bound']);
    expect(d.norm.find((s) => s.label === 'g: pre-clip ‖g‖')!.values).toEqual([2, 8, 32, 0.5, 0.25]);
    expect(d.norm.find((s) => s.label === 'g: post-clip ‖g‖')!.values).toEqual([1, 1, 1, 0.5, 0.25]);
    expect(d.norm.find((s) => s.kind === 'clip-bound')!.values).toEqual([1, 1, 1, 1, 1]);
    expect(d.layers.map((s) => s.label)).toEqual(['u: rnn', 'u: head', 'g: rnn', 'g: head']);
    expect(d.bad).toEqual([{ run: 0, step: 2 }]);
    // The recovery at step 3 is not marked.
    expect(d.marks).toEqual([
      { run: 0, step: 1, severity: 'critical' },
      { run: 1, step: 1, severity: 'warning' },
    ]);
    expect(chartData([guardedRun, unguardedRun], ['g', 'u']).signature).not.toBe(d.signature);
    expect(chartData([unguardedRun, guardedRun], ['u', 'g']).signature).toBe(d.signature);
    // More steps of the same runs (a live run growing) keep the signature: the charts get new columns, not a rebuild.
    const grown = { ...guardedRun, steps: [...guardedRun.steps, stepOf(5, 0.1, 1)] };
    expect(chartData([unguardedRun, grown], ['u', 'g']).signature).toBe(d.signature);
  });

  it('puts the loss on a linear axis when a loss is zero or negative', () => {
    const run = { header: headerOf('neg', {}), steps: [stepOf(0, 1, undefined, 0.5), stepOf(1, 1, undefined, -0.25)], diagnoses: [] };
    const d = chartData([run]);
    expect(d.lossPositive).toBe(false);
    expect(d.loss[0]!.values).toEqual([0.5, -0.25]);
    expect(d.signature).not.toBe(chartData([{ ...run, steps: run.steps.slice(0, 1) }]).signature);
  });

  it('keeps only what a log axis can show when asked to', () => {
    expect([plotValue(2), plotValue(Number.NaN), plotValue(Number.POSITIVE_INFINITY), plotValue(null), plotValue(0, true), plotValue(-1)]).toEqual([
      2,
      null,
      null,
      null,
      null,
      -1,
    ]);
  });
});

describe('chartData bounds', () => {
  const header = headerOf('long', {});
  /** `n` steps of norm ~1 with one spike of 1e12 and one dip of 1e-9, and a layer named anew every step (5e9 at `bigAt`, else 1). */
  const longRun = (n: number, spikeAt: number, dipAt: number, bigAt = -1) => ({
    header,
    steps: Array.from({ length: n }, (_, i) => {
      const pre = i === spikeAt ? 1e12 : i === dipAt ? 1e-9 : 1 + (i % 5) / 10;
      const s = stepOf(i, pre);
      return { ...s, loss: i === 40_001 ? Number.NaN : s.loss, layers: [...s.layers, { ...s.layers[0]!, layer: `new_${i}`, norm: i === bigAt ? 5e9 : 1 }] };
    }),
    diagnoses: Array.from({ length: 10_000 }, (_, i) => diagnosisOf(i * 10, i === 5000 ? 'critical' : 'warning', 'onset')),
  });

  it('downsamples 100,000 steps to at most maxPoints per series, keeping the spike, the dip and their steps', () => {
    const d = chartData([longRun(100_000, 12_345, 67_890)]);
    expect(d.steps.length).toBeLessThanOrEqual(2000);
    expect(d.steps.length).toBeGreaterThan(1900);
    expect(d.reduced).toEqual({ steps: 100_000, bucket: 100, otherLayers: 100_002 - 20 });
    const pre = d.norm.find((s) => s.kind === 'pre-clip')!;
    expect(pre.values).toHaveLength(d.steps.length);
    expect(Math.max(...pre.values.map((v) => v ?? 0))).toBe(1e12);
    expect(Math.min(...pre.values.map((v) => v ?? Number.POSITIVE_INFINITY))).toBe(1e-9);
    // Each extreme sits at a point of the bucket that holds its step.
    const at = (v: number): number => d.steps[pre.values.indexOf(v)]!;
    expect(Math.floor(at(1e12) / 100)).toBe(Math.floor(12_345 / 100));
    expect(Math.floor(at(1e-9) / 100)).toBe(Math.floor(67_890 / 100));
    // Between the extremes, ordinary buckets keep their own min and max (1 and 1.4).
    expect(new Set(pre.values.slice(0, 200))).toEqual(new Set([1, 1.4]));
    // The NaN loss of step 40,001 shades its bucket; 10,000 marks become the most severe per bucket.
    expect(d.bad).toEqual([{ run: 0, step: 40_000, until: 40_099 }]);
    expect(d.marks.length).toBe(1000);
    expect(d.marks.filter((m) => m.severity === 'critical')).toEqual([{ run: 0, step: 50_000, severity: 'critical' }]);
    expect(JSON.stringify(d).length).toBeLessThan(1_000_000);
  });

  it('draws at most maxLayerSeries layers: the largest, and the rest as one "other layers" series holding their max', () => {
    const d = chartData([longRun(3000, 1, 2, 1234)], [], { maxPoints: 100_000, maxLayerSeries: 3 });
    expect(d.steps).toHaveLength(3000);
    expect(d.layers.map((s) => s.label)).toEqual(['rnn', 'head', 'new_1234', OTHER_LAYERS]);
    const other = d.layers.at(-1)!;
    expect(other.values[5]).toBe(1); // new_5
    expect(other.values[1234]).toBeNull(); // new_1234 has its own series
    expect(d.layers[2]!.values.filter((v) => v !== null)).toEqual([5e9]);
    expect(d.reduced.otherLayers).toBe(3002 - 3);
    // A layer name of 100,000 characters is cut to 200 with its length.
    const huge = 'L'.repeat(100_000);
    const run = { header, steps: [stepOf(0, 1)].map((s) => ({ ...s, layers: [{ ...s.layers[0]!, layer: huge }] })), diagnoses: [] };
    expect(chartData([run]).layers[0]!.label).toBe(`${'L'.repeat(200)}… (100,000 characters)`);
    expect(chartData([run, run], [huge, 'b']).loss[0]!.label).toBe(`${'L'.repeat(200)}… (100,000 characters): loss`);
  });
});
