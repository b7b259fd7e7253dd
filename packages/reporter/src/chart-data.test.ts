import { describe, expect, it } from 'vitest';
import { chartData, plotValue } from './chart-data';
import { guardedRun, headerOf, stepOf, unguardedRun } from './test-runs';

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
