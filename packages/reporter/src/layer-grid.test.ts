import type { StepRecord } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { chartData } from './chart-data';
import { firstDiagnosisBars, layerCell, layerHeatmap } from './layer-grid';
import { diagnosisOf, guardedRun, headerOf, stepOf, unguardedRun } from './test-runs';

/** A step whose layers have the given norms (NaN marks its entries non-finite). */
function stepWith(step: number, norms: Record<string, number>): StepRecord {
  return {
    ...stepOf(step, 1),
    layers: Object.entries(norms).map(([layer, norm]) => ({ layer, size: 4, norm, maxAbs: norm, nonFinite: Number.isFinite(norm) ? 0 : 4, zeros: norm === 0 ? 4 : 0 })),
  };
}

describe('layerHeatmap', () => {
  it('one row per layer in model order, one column per step, log10 of each norm; NaN, Infinity and 0 by name', () => {
    // unguardedRun: rnn = 0.8 × (2, 8, NaN), head = 0.6 × (2, 8, NaN).
    const h = layerHeatmap(unguardedRun, 0, '')!;
    expect(h.rows).toEqual(['rnn', 'head']);
    expect(h.from).toEqual([0, 1, 2]);
    expect(h.until).toEqual([0, 1, 2]);
    const cells = h.cells.map((c) => (typeof c === 'number' ? Number(c.toFixed(6)) : c));
    expect(cells).toEqual([Number(Math.log10(1.6).toFixed(6)), Number(Math.log10(6.4).toFixed(6)), 'nan', Number(Math.log10(1.2).toFixed(6)), Number(Math.log10(4.8).toFixed(6)), 'nan']);
    expect(h.min).toBeCloseTo(Math.log10(1.2), 12);
    expect(h.max).toBeCloseTo(Math.log10(6.4), 12);
    expect([layerCell(Number.POSITIVE_INFINITY), layerCell(0), layerCell(Number.NaN), layerCell(100), layerCell(5, 1)]).toEqual(['inf', 'zero', 'nan', 2, 'nan']);
  });

  it('past the limits, shares rows among consecutive layers and columns among consecutive steps, loudest value kept', () => {
    // 5 layers and 5 steps into at most 2 rows and 2 columns: 3 layers and 3 steps per row and column.
    const names = ['a', 'b', 'c', 'd', 'e'];
    const steps = [0, 1, 2, 3, 4].map((s) =>
      stepWith(s, Object.fromEntries(names.map((n, k) => [n, s === 1 && n === 'b' ? Number.NaN : s === 4 && n === 'e' ? 0 : 10 ** (k + s)]))),
    );
    const h = layerHeatmap({ header: headerOf('grid', {}), steps, diagnoses: [] }, 0, '', 2, 2)!;
    expect([h.layersPerRow, h.stepsPerColumn, h.layers, h.steps]).toEqual([3, 3, 5, 5]);
    expect(h.rows).toEqual(['a … c (3 layers, max)', 'd … e (2 layers, max)']);
    expect(h.from).toEqual([0, 3]);
    expect(h.until).toEqual([2, 4]);
    // Row a–c, steps 0–2: b is NaN at step 1, NaN wins. Row a–c, steps 3–4: c at step 4 = 1e6. Row d–e, steps 0–2:
    // e at step 2 = 1e6. Row d–e, steps 3–4: d at step 4 = 1e7 (e is 0 there, and a larger norm beats zero).
    expect(h.cells).toEqual(['nan', 6, 6, 7]);
    expect([h.min, h.max]).toEqual([6, 7]);
  });

  it('a hostile log (a new layer name every step, 100,000 steps) stays within the limits', () => {
    const steps = Array.from({ length: 100_000 }, (_, s) => stepWith(s, { [`layer_${s}`]: 1 + s }));
    const h = layerHeatmap({ header: headerOf('hostile', {}), steps, diagnoses: [] }, 0, '')!;
    expect(h.rows.length).toBeLessThanOrEqual(64);
    expect(h.from.length).toBeLessThanOrEqual(400);
    expect(h.cells).toHaveLength(h.rows.length * h.from.length);
    expect(h.max).toBeCloseTo(5, 9); // log10(100,000): the last step's layer, in the last row and column
    expect(h.cells.at(-1)).toBeCloseTo(5, 9);
  });

  it('no layers, no heatmap; chartData carries one per run with layers, and survives JSON', () => {
    expect(layerHeatmap({ header: headerOf('empty', {}), steps: [{ ...stepOf(0, 1), layers: [] }], diagnoses: [] }, 0, '')).toBeUndefined();
    const d = chartData([unguardedRun, guardedRun], ['u', 'g']);
    expect(d.heatmaps.map((h) => [h.run, h.label, h.from.length])).toEqual([
      [0, 'u', 3],
      [1, 'g', 5],
    ]);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    expect(d.rate.map((s) => [s.label, s.values])).toEqual([
      ['u: clip scale', [1, 1, null, null, null]],
      ['u: learning rate', [0.1, 0.1, 0.1, null, null]],
      ['g: clip scale', [0.5, 0.125, 1 / 32, 1, 1]],
      ['g: learning rate', [0.1, 0.1, 0.1, 0.1, 0.1]],
    ]);
  });
});

describe('firstDiagnosisBars', () => {
  it('the norms at the first diagnosis, the blamed layer marked; recoveries never count', () => {
    const b = firstDiagnosisBars(guardedRun, 1, 'g')!;
    // guardedRun: warning onset at step 1 (layer rnn), recovery at 3. Step 1: pre-clip 8, rnn 6.4, head 4.8.
    expect(b).toMatchObject({ run: 1, label: 'g', step: 1, measuredAt: 1, problem: 'exploding-gradient', severity: 'warning', blamed: 'rnn', otherLayers: 0 });
    expect(b.bars.map((x) => [x.layer, Number((x.value as number).toFixed(9)), x.blamed])).toEqual([
      ['rnn', Number(Math.log10(6.4).toFixed(9)), true],
      ['head', Number(Math.log10(4.8).toFixed(9)), false],
    ]);
    expect(firstDiagnosisBars({ ...guardedRun, diagnoses: [diagnosisOf(3, 'info', 'recovery')] }, 0, '')).toBeUndefined();
  });

  it('prefers, at the earliest step, the most severe diagnosis, then a gradient problem, then one naming a layer', () => {
    const loss = { ...diagnosisOf(1, 'critical', 'onset'), problem: 'loss-divergence' as const, layer: 'head' };
    const grad = { ...diagnosisOf(1, 'critical', 'onset'), layer: 'rnn' };
    const later = { ...diagnosisOf(0, 'warning', 'onset'), step: 2 };
    expect(firstDiagnosisBars({ ...guardedRun, diagnoses: [later, loss, grad] }, 0, '')!).toMatchObject({ step: 1, problem: 'exploding-gradient', blamed: 'rnn' });
    const warning = { ...diagnosisOf(1, 'warning', 'onset'), layer: 'head' };
    expect(firstDiagnosisBars({ ...guardedRun, diagnoses: [warning, loss] }, 0, '')!).toMatchObject({ problem: 'loss-divergence', blamed: 'head' });
  });

  it('a diagnosis at an unmeasured step shows the last measured one before it; past maxBars, the loudest and the blamed', () => {
    const steps = [stepWith(0, { a: 1, b: 10, c: 100, d: 1e-3, e: Number.NaN }), stepWith(5, { a: 2, b: 20, c: 200, d: 2e-3, e: 3 })];
    const run = { header: headerOf('bars', {}), steps, diagnoses: [{ ...diagnosisOf(3, 'critical', 'onset'), layer: 'd' }] };
    const b = firstDiagnosisBars(run, 0, '', 3)!;
    expect([b.step, b.measuredAt, b.otherLayers]).toEqual([3, 0, 2]);
    // Kept: d (blamed), e (NaN), c (largest finite); in model order.
    expect(b.bars).toEqual([
      { layer: 'c', value: 2, blamed: false },
      { layer: 'd', value: -3, blamed: true },
      { layer: 'e', value: 'nan', blamed: false },
    ]);
  });
});
