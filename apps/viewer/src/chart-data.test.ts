import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunLog } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { chartData, plotValue } from './chart-data';

const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures');
const unguarded = parseRunLog(readFileSync(join(fixtures, 'demo-unguarded.jsonl'), 'utf8'));
const guarded = parseRunLog(readFileSync(join(fixtures, 'demo-guarded.jsonl'), 'utf8'));

describe('chartData', () => {
  it('lays one run out as uPlot columns: NaN becomes a gap and a shaded step, diagnoses become marks', () => {
    const d = chartData([unguarded]);
    expect(d.steps).toEqual([0, 1]);
    expect(d.loss.map((s) => s.label)).toEqual(['loss']);
    expect(d.loss[0]!.values).toEqual([unguarded.steps[0]!.loss, null]);
    // The demo writes maxNorm 1 into both runs' config, so the reporter's clipBoundOf gives the unguarded run a bound too.
    expect(d.norm.map((s) => s.label)).toEqual(['pre-clip ‖g‖', 'post-clip ‖g‖', 'clip bound']);
    expect(d.norm[0]!.values[0]).toBeCloseTo(unguarded.steps[0]!.preClipNorm, 0);
    expect(d.layers.map((s) => [s.label, s.values[0]])).toEqual(
      unguarded.steps[0]!.layers.map((l) => [l.layer, l.norm]),
    );
    expect(d.bad).toEqual([{ run: 0, step: 1 }]);
    expect(d.marks).toEqual(unguarded.diagnoses.map((m) => ({ run: 0, step: m.step, severity: m.severity })));
  });

  it('overlays two runs on the union of their steps, with the clip bound of the guarded run from its config', () => {
    const d = chartData([unguarded, guarded], ['u', 'g']);
    expect(d.steps).toEqual(guarded.steps.map((s) => s.step));
    expect(d.loss.map((s) => s.label)).toEqual(['u: loss', 'g: loss']);
    // The unguarded run stopped after 2 steps: the rest of its column is gaps, the same length as x.
    expect(d.loss[0]!.values).toHaveLength(120);
    expect(d.loss[0]!.values.slice(1).every((v) => v === null)).toBe(true);
    const bounds = d.norm.filter((s) => s.kind === 'clip-bound');
    // Both logs record maxNorm 1 in their config (the demo's setup); the unguarded one never clipped with it.
    expect(bounds.map((s) => [s.label, s.values[0]])).toEqual([
      ['u: clip bound', 1],
      ['g: clip bound', 1],
    ]);
    const post = d.norm.find((s) => s.label === 'g: post-clip ‖g‖')!;
    expect(post.values.every((v) => v !== null && v <= 1 + 1e-5)).toBe(true);
    expect(d.layers.map((s) => s.label)).toEqual(['u: rnn', 'u: head', 'g: rnn', 'g: head']);
    expect(d.lossPositive).toBe(true);
    expect(chartData([guarded, unguarded], ['g', 'u']).signature).not.toBe(d.signature);
    expect(chartData([unguarded, guarded], ['u', 'g']).signature).toBe(d.signature);
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
