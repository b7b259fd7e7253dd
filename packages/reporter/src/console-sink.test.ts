import { Writable } from 'node:stream';
import type { DiagnosisRecord, HeaderRecord, StepRecord } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { createConsoleSink } from './console-sink';

const H = 'run\u001b[2J\u001b[H\u001b]0;owned\u0007\u009b31m';

/** A stream that keeps what is written; `isTTY` as given (the sink decides colour and the progress bar from it). */
function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 120 });
  return { stream, text: () => chunks.join('') };
}

function hostileRun(sink: ReturnType<typeof createConsoleSink>): void {
  const header: HeaderRecord = {
    type: 'header', version: 1, runId: 'r', name: H, startedAt: '2026-01-01T00:00:00.000Z', backend: `cpu${H}`,
    model: { name: `m${H}`, params: 4, layers: [{ name: H, className: 'Dense', params: 4 }] }, config: { transform: H },
  };
  const step: StepRecord = {
    type: 'step', step: 0, time: 0, loss: 1, globalNorm: 1e9, preClipNorm: 1e9, postClipNorm: 1e9, scale: 1, skipped: false,
    learningRate: 0.1, maxAbs: 1, nonFinite: 0, layers: [{ layer: H, size: 4, norm: 1e9, maxAbs: 1, nonFinite: 0, zeros: 0 }],
  };
  const diagnosis: DiagnosisRecord = {
    type: 'diagnosis', problem: 'exploding-gradient', severity: 'critical', phase: 'onset', step: 0, layer: H, detector: 'd',
    message: `msg ${H}`, evidence: {}, advice: [{ remedy: 'clipByGlobalNorm', detail: `detail ${H}` }],
  };
  sink.header(header);
  sink.step(step);
  sink.diagnosis(diagnosis);
  sink.end({ type: 'end', status: 'stopped', steps: 1, endedAt: '2026-01-01T00:00:01.000Z', reason: `why ${H}` });
}

describe('console sink on a run with hostile names', () => {
  it('not a terminal: no escape sequence at all, the names shown escaped', () => {
    const out = capture(false);
    hostileRun(createConsoleSink({ stream: out.stream, label: `l${H}` }));
    const text = out.text();
    expect(text).toContain('run\\u001b[2J');
    expect(text).toContain('msg run\\u001b[2J');
    // eslint-disable-next-line no-control-regex
    expect(text.match(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g)).toBeNull();
  });

  it('a terminal: colours (SGR) and the progress bar are ours; nothing from the run reaches the terminal raw', () => {
    const out = capture(true);
    hostileRun(createConsoleSink({ stream: out.stream, totalSteps: 1, color: true }));
    const text = out.text();
    // Every ESC starts one of our own sequences: SGR colours (when util.styleText emits them), or the progress bar's
    // save/restore cursor, column moves, erase-line and line-wrap toggles.
    // eslint-disable-next-line no-control-regex
    const sequences = text.match(/\u001b(?:\[[0-9;?]*[A-Za-z]|[^[])/g) ?? [];
    expect(sequences.length).toBeGreaterThan(0); // the bar is drawn: this is the terminal path
    expect(sequences.length).toBe(text.split('\u001b').length - 1);
    // eslint-disable-next-line no-control-regex
    expect(sequences.filter((q) => !/^\u001b(?:\[\??\d*(?:;\d+)*[mKGhl]|[78])$/.test(q))).toEqual([]);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\u0007|\u009b|\u001b\]|\u001b\[2J|\u001b\[H/);
  });
});
