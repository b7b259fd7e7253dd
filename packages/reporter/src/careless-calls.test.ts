import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GradguardError } from '@gradguard/core/run-log';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CONFIG_DEPTH } from './check-arguments';
import { createJsonlSink, createMemorySink, createRecorder, findDivergence, makeHeader } from './index';
import { createConsoleSink, createTensorBoardSink } from './node';
import type { RunSink } from './sink';
import { diagnosisOf, guardedRun, headerOf, stepOf, unguardedRun } from './test-runs';

// Careless calls of @gradguard/reporter's public functions: each fails where it is made with a GradguardError that
// names the value and the fix, and a sink given a wrong value writes nothing.

const deep = (levels: number): Record<string, unknown> => {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < levels; i++) at = at.a = {} as Record<string, unknown>;
  return root;
};
const cyclic = (): Record<string, unknown> => {
  const o: Record<string, unknown> = { lr: 0.1 };
  o.self = o;
  return o;
};
const dir = mkdtempSync(join(tmpdir(), 'gradguard-careless-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every sink, with what it has written so far (lines, or bytes on the stream). */
function sinks(): { name: string; sink: RunSink; written: () => number }[] {
  const lines: string[] = [];
  const memory = createMemorySink();
  let consoleBytes = 0;
  const stream = { write: (t: string) => ((consoleBytes += t.length), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return [
    { name: 'createJsonlSink', sink: createJsonlSink((l) => lines.push(l)), written: () => lines.length },
    { name: 'createMemorySink', sink: memory, written: () => { try { return 1 + memory.log.steps.length + memory.log.diagnoses.length; } catch { return 0; } } },
    { name: 'createConsoleSink', sink: createConsoleSink({ stream, color: false }), written: () => consoleBytes },
    { name: 'createTensorBoardSink', sink: createTensorBoardSink(join(dir, `tb-${Math.random()}`)), written: () => 0 },
  ];
}

interface Case {
  readonly call: string;
  readonly run: () => unknown;
  readonly names: string;
}

const bad: readonly [label: string, value: unknown, names: string][] = [
  ['undefined', undefined, 'got undefined'],
  ['null', null, 'got null'],
  ['a string', 'step', 'got "step"'],
  ['NaN', Number.NaN, 'got NaN'],
  ['an array', [], 'got an array of length 0'],
];

const sinkCases: Case[] = [];
for (const { name } of sinks()) {
  const methods = name === 'createTensorBoardSink' ? (['header', 'step'] as const) : (['header', 'step', 'diagnosis', 'end'] as const);
  for (const method of methods) {
    for (const [label, value, names] of bad) {
      sinkCases.push({
        call: `${name}().${method}(${label})`,
        run: () => {
          const s = sinks().find((x) => x.name === name)!;
          if (method !== 'header') s.sink.header(headerOf('r', {}));
          const before = s.written();
          try {
            (s.sink[method] as (v: unknown) => void)(value);
          } finally {
            expect(s.written(), `${name}.${method} wrote something`).toBe(before);
          }
        },
        names: `expected a ${method} record, ${names}`,
      });
    }
  }
  sinkCases.push({
    call: `${name}().step(a diagnosis record)`,
    run: () => sinks().find((x) => x.name === name)!.sink.step(diagnosisOf(1, 'info', 'onset') as never),
    names: 'expected a step record, got one with type "diagnosis"',
  });
  sinkCases.push({
    call: `${name}().step({ type: 'step', step: NaN })`,
    run: () => sinks().find((x) => x.name === name)!.sink.step({ ...stepOf(1, 1), step: Number.NaN }),
    names: "the step record's step must be an integer >= 0, got NaN",
  });
}

export const REPORTER_CASES: readonly Case[] = [
  ...sinkCases,
  { call: 'createJsonlSink(header with config 10,000 levels deep)', run: () => createJsonlSink(() => undefined).header(headerOf('r', deep(10_000))), names: `config is nested more than ${MAX_CONFIG_DEPTH} levels deep` },
  { call: 'createJsonlSink(undefined)', run: () => createJsonlSink(undefined as never), names: 'writeLine must be a function, got undefined' },
  { call: 'createJsonlSink("run.jsonl")', run: () => createJsonlSink('run.jsonl' as never), names: 'writeLine must be a function, got "run.jsonl"' },
  { call: 'createJsonlSink(f, "close")', run: () => createJsonlSink(() => undefined, 'close' as never), names: 'close must be a function, got "close"' },
  // createRecorder
  { call: 'createRecorder(undefined)', run: () => createRecorder(undefined as never), names: 'options are required, got undefined' },
  { call: 'createRecorder(null)', run: () => createRecorder(null as never), names: 'options must be an object, got null' },
  { call: 'createRecorder({ name: 42 })', run: () => createRecorder({ name: 42 as never, sinks: [] }), names: 'name must be a non-empty string, got 42' },
  { call: 'createRecorder({ sinks: "jsonl" })', run: () => createRecorder({ name: 'r', sinks: 'jsonl' as never }), names: 'sinks must be an array of sinks, got "jsonl"' },
  { call: 'createRecorder({ sinks: [undefined] })', run: () => createRecorder({ name: 'r', sinks: [undefined as never] }), names: 'sinks[0] is not a sink (an object with header, step, diagnosis and end methods), got undefined' },
  { call: 'createRecorder({ sink })', run: () => createRecorder({ name: 'r', sinks: [], sink: createMemorySink() } as never), names: 'unknown option "sink". Did you mean "sinks"?' },
  { call: 'createRecorder({ config: 10,000 levels deep })', run: () => createRecorder({ name: 'r', sinks: [], config: deep(10_000) }), names: `config is nested more than ${MAX_CONFIG_DEPTH} levels deep` },
  { call: 'createRecorder({ config: cyclic })', run: () => createRecorder({ name: 'r', sinks: [], config: cyclic() }), names: 'or refers to itself' },
  { call: 'createRecorder({ config: "adam" })', run: () => createRecorder({ name: 'r', sinks: [], config: 'adam' as never }), names: 'config must be an object of settings, got "adam"' },
  { call: 'createRecorder({ now: 0 })', run: () => createRecorder({ name: 'r', sinks: [], now: 0 as never }), names: 'now must be a function, got 0' },
  { call: 'recorder.step(undefined)', run: () => createRecorder({ name: 'r', sinks: [] }).step(undefined as never), names: 'recorder.step: expected the statistics of one step' },
  { call: 'recorder.diagnosis(null)', run: () => createRecorder({ name: 'r', sinks: [] }).diagnosis(null as never), names: 'recorder.diagnosis: expected a diagnosis' },
  { call: 'recorder.watch("optimizer")', run: () => createRecorder({ name: 'r', sinks: [] }).watch('optimizer' as never), names: 'expected a guarded optimizer (with onStep), got "optimizer"' },
  { call: 'makeHeader({ config: 10,000 levels deep })', run: () => makeHeader({ runId: 'r', name: 'r', startedAt: new Date(0), config: deep(10_000) }), names: `config is nested more than ${MAX_CONFIG_DEPTH} levels deep` },
  // findDivergence
  { call: 'findDivergence(a, b, NaN)', run: () => findDivergence(unguardedRun, guardedRun, Number.NaN), names: 'rtol must be a number >= 0, got NaN' },
  { call: 'findDivergence(a, b, -1)', run: () => findDivergence(unguardedRun, guardedRun, -1), names: 'rtol must be a number >= 0, got -1' },
  { call: 'findDivergence(a, b, Infinity)', run: () => findDivergence(unguardedRun, guardedRun, Infinity), names: 'rtol must be a number >= 0, got Infinity' },
  { call: 'findDivergence(a, b, "1e-3")', run: () => findDivergence(unguardedRun, guardedRun, '1e-3' as never), names: 'rtol must be a number >= 0, got "1e-3"' },
  { call: 'findDivergence(undefined, b)', run: () => findDivergence(undefined as never, guardedRun), names: 'a must be a run log (with header and steps), got undefined' },
  { call: 'findDivergence(a, "run.jsonl")', run: () => findDivergence(unguardedRun, 'run.jsonl' as never), names: 'b must be a run log (with header and steps), got "run.jsonl"' },
  { call: 'findDivergence(a, { steps: {} })', run: () => findDivergence(unguardedRun, { header: {}, steps: {} } as never), names: 'b must be a run log' },
];

describe('@gradguard/reporter: careless calls fail at once with a clear error naming the value, writing nothing', () => {
  it.each(REPORTER_CASES.map((c) => [c.call, c] as const))('%s', async (_, c) => {
    let error: unknown;
    try {
      await c.run();
    } catch (e) {
      error = e;
    }
    expect(error, `${c.call} did not throw`).toBeInstanceOf(GradguardError);
    expect((error as Error).message).toContain(c.names);
  });

  it('a NaN tolerance no longer reports that different runs agree; valid calls still work', () => {
    expect(findDivergence(unguardedRun, guardedRun).step).not.toBeNull();
    const lines: string[] = [];
    const s = createJsonlSink((l) => lines.push(l));
    s.header(headerOf('r', deep(MAX_CONFIG_DEPTH - 1)));
    s.step(stepOf(0, 1));
    expect(lines).toHaveLength(2);
  });
});
