import type { RunLog, StepRecord } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { findDivergence, summarizeRun, summaryRows } from './summary';
import { guardedRun, unguardedRun } from './test-runs';

function step(step: number, loss: number, preClipNorm: number, scale = 1, nonFinite = 0): StepRecord {
  return {
    type: 'step', step, time: step, loss, globalNorm: preClipNorm * scale, preClipNorm, postClipNorm: preClipNorm * scale,
    scale, skipped: false, learningRate: 0.1, maxAbs: 1, nonFinite, layers: [],
  };
}
function log(steps: StepRecord[], end?: RunLog['end']): RunLog {
  return {
    header: { type: 'header', version: 1, runId: 'r', name: 'n', startedAt: '2026-01-01T00:00:00.000Z', config: {} },
    steps,
    diagnoses: [
      { type: 'diagnosis', problem: 'non-finite', severity: 'critical', phase: 'onset', step: 2, detector: 'd', message: 'm', evidence: {}, advice: [] },
      { type: 'diagnosis', problem: 'non-finite', severity: 'info', phase: 'recovery', step: 9, detector: 'd', message: 'm', evidence: {}, advice: [] },
    ],
    end,
    truncated: false,
  };
}

describe('summarizeRun', () => {
  it('finds the first non-finite step, best and final loss, largest finite norm, clipped steps', () => {
    const s = summarizeRun(log([step(0, 2, 5), step(1, 0.5, 40, 0.025), step(2, Number.NaN, Number.NaN, Number.NaN, 7), step(3, Number.NaN, Number.NaN)]));
    expect(s).toMatchObject({ steps: 4, status: 'unfinished', finite: false, firstNonFiniteStep: 2, bestLoss: { step: 1, loss: 0.5 }, maxPreClipNorm: 40, clippedSteps: 1 });
    expect(s.finalLoss).toBeNaN();
    expect(s.problems).toEqual({ critical: 1, warning: 0, info: 0 }); // recoveries are not problems
  });
});

describe('findDivergence', () => {
  const a = log([step(0, 1, 5), step(1, 0.9, 8), step(2, 0.8, 30), step(3, Number.NaN, Number.NaN, 1, 3)]);
  it('is null for identical runs and ignores differences within rtol', () => {
    expect(findDivergence(a, a)).toEqual({ step: null, reason: null });
    const b = log([step(0, 1 + 1e-5, 5), step(1, 0.9, 8 * (1 + 5e-4)), step(2, 0.8, 30), step(3, Number.NaN, Number.NaN, 1, 3)]);
    expect(findDivergence(a, b).step).toBeNull();
  });
  it('names the first step where the loss or norm part ways, or only one run is non-finite', () => {
    const clipped = log([step(0, 1, 5, 0.2), step(1, 0.95, 3, 0.33), step(2, 0.7, 2, 0.5), step(3, 0.6, 1)]);
    expect(findDivergence(a, clipped)).toEqual({ step: 1, reason: 'loss 0.9 vs 0.95' });
    const sameLoss = log([step(0, 1, 5), step(1, 0.9, 8), step(2, 0.8, 31), step(3, 0.6, 1)]);
    expect(findDivergence(a, sameLoss).step).toBe(2);
    const nanOnly = log([step(0, 1, 5), step(1, 0.9, 8), step(2, 0.8, 30), step(3, 0.7, 30)]);
    expect(findDivergence(a, nanOnly)).toEqual({ step: 3, reason: 'only the first run has non-finite values' });
  });
});

describe('createMemorySink + toStepStatistics', () => {
  it('collects a run as a RunLog whose steps convert back to detector input', async () => {
    const { createMemorySink } = await import('./memory-sink');
    const { toStepStatistics } = await import('./step-statistics');
    const { createRecorder } = await import('./recorder');
    const sink = createMemorySink();
    const rec = createRecorder({ name: 'mem', sinks: [sink] });
    rec.step({
      step: 0, variables: [], globalNorm: 5, preClipNorm: 5, postClipNorm: 5, scale: 1, skipped: false, maxAbs: 4, nonFinite: 0, size: 30, loss: 0.5,
      layers: [{ layer: 'a', size: 10, norm: 3, maxAbs: 2, nonFinite: 0, zeros: 1 }, { layer: 'b', size: 20, norm: 4, maxAbs: 4, nonFinite: 0, zeros: 0 }],
    });
    await rec.end('completed');
    expect(sink.log.end).toMatchObject({ status: 'completed', steps: 1, finalLoss: 0.5 });
    const s = toStepStatistics(sink.log.steps[0]!);
    expect(s).toMatchObject({ step: 0, size: 30, globalNorm: 5, loss: 0.5, layers: [{ layer: 'a', norm: 3 }, { layer: 'b', norm: 4 }] });
    expect(s.learningRate).toBeUndefined(); // null in the log means unknown
  });
});

describe('a run log keeps what the detectors need', () => {
  it('round-trips weight/update norms, bias zeros, histograms and recurrent spectra through JSONL, and diagnose sees what the live monitor saw', async () => {
    const { createMonitor } = await import('@gradguard/core');
    const { encodeRunLogRecord, parseRunLog } = await import('@gradguard/core/run-log');
    const { createMemorySink } = await import('./memory-sink');
    const { toStepStatistics } = await import('./step-statistics');
    const { createRecorder } = await import('./recorder');
    type Stats = Parameters<ReturnType<typeof createRecorder>['step']>[0];
    // 80 steps whose second layer's weights grow ×1.06 a step (×100 by the end) while the loss rises: weight growth.
    const steps: Stats[] = Array.from({ length: 80 }, (_, i) => {
      const w = 2 * 1.06 ** i;
      return {
        step: i, variables: [], globalNorm: 0.5, preClipNorm: 0.5, postClipNorm: 0.5, scale: 1, skipped: false, maxAbs: 0.3, nonFinite: 0,
        size: 30, loss: 1 + i / 40, weightNorm: Math.hypot(3, w), updateNorm: 0.01, updateRatio: 0.01 / Math.hypot(3, w),
        histogramEdges: [1e-3, 1], histogram: [1, 28, 1],
        layers: [
          { layer: 'a', size: 10, norm: 0.3, maxAbs: 0.3, nonFinite: 0, zeros: 2, biasSize: 2, biasZeros: 1, weightNorm: 3, updateNorm: 0.005, updateRatio: 0.005 / 3, histogram: [0, 10, 0] },
          { layer: 'b', size: 20, norm: 0.4, maxAbs: 0.3, nonFinite: 0, zeros: 0, weightNorm: w, histogram: [1, 18, 1] },
        ],
        recurrent: [{ layer: 'b', className: 'SimpleRNN', gate: 'all', spectralRadius: 0.9, maxSingularValue: 1.1, timeSteps: 20 }],
        ...(i === 40 ? { replay: { verdict: 'backend' as const, backend: 'webgl', replayedOn: 'cpu' } } : {}),
      };
    });
    const sink = createMemorySink();
    const rec = createRecorder({ name: 'growth', sinks: [sink] });
    const live = createMonitor();
    for (const s of steps) {
      live.observe(s);
      rec.step(s);
    }
    await rec.end('completed');
    const text = [sink.log.header, ...sink.log.steps].map((r) => `${encodeRunLogRecord(r)}\n`).join('');
    const back = parseRunLog(text).steps.map(toStepStatistics);
    back.forEach((s, i) => {
      const { variables: _v, ...original } = steps[i]!;
      expect({ ...s, variables: undefined }).toEqual({ ...original, variables: undefined });
    });
    const replay = createMonitor();
    for (const s of back) replay.observe(s);
    const brief = (ds: typeof live.diagnoses) => ds.map((d) => `${d.step} ${d.problem} ${d.severity} ${d.phase} ${d.layer ?? ''}`);
    expect(brief(live.diagnoses).some((d) => d.includes('weight-growth'))).toBe(true);
    expect(brief(replay.diagnoses)).toEqual(brief(live.diagnoses));
  });
});

describe('summaryRows', () => {
  it('lists the key facts of a run as the report and the viewer show them', () => {
    const log = { ...guardedRun, end: { type: 'end' as const, status: 'stopped' as const, steps: 5, endedAt: '2026-11-23T00:00:01.000Z', reason: 'stopped from the page' } };
    expect(Object.fromEntries(summaryRows(log))).toEqual({
      model: '—',
      backend: '—',
      started: '2026-11-23T00:00:00.000Z',
      status: 'stopped — stopped from the page',
      steps: '5',
      'first non-finite step': 'none',
      'final loss': '0.2',
      'largest pre-clip ‖g‖': '32',
      'clip bound': '1',
      'steps clipped': '3',
      // The recovery at step 3 is not counted.
      diagnoses: '0 critical, 1 warning, 0 info',
    });
    const rows = Object.fromEntries(summaryRows({ ...unguardedRun, truncated: true }));
    expect([rows['status'], rows['first non-finite step'], rows['clip bound'], rows['final loss']]).toEqual(['unfinished (last line cut off)', '2', 'none', 'NaN']);
  });
});
