import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_RUNS, loadRunFiles, loadRunText } from './load-run';

const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures');
const unguarded = readFileSync(join(fixtures, 'demo-unguarded.jsonl'), 'utf8');
const guarded = readFileSync(join(fixtures, 'demo-guarded.jsonl'), 'utf8');
const source = (name: string, text: string) => ({ name, text: async () => text });

describe('loadRunText', () => {
  it('reads the logs `gradguard demo` writes: the unguarded run is NaN at step 1, the guarded one clipped and finite', () => {
    const u = loadRunText('demo-unguarded.jsonl', unguarded);
    const g = loadRunText('demo-guarded.jsonl', guarded);
    if (!u.ok || !g.ok) throw new Error('expected both logs to load');
    expect(u.log.header.name).toBe('demo-unguarded');
    expect(u.log.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(u.log.steps[1]!.loss).toBeNaN();
    expect(u.log.steps[0]!.preClipNorm).toBeGreaterThan(1e8);
    expect(u.log.diagnoses.map((d) => [d.step, d.problem, d.layer])).toEqual([
      [0, 'exploding-gradient', 'rnn'],
      [1, 'non-finite', 'rnn'],
    ]);
    expect(u.log.end?.status).toBe('stopped');
    expect(g.log.steps).toHaveLength(120);
    expect(g.log.steps.every((s) => Number.isFinite(s.loss!) && s.postClipNorm <= 1 + 1e-5)).toBe(true);
  });

  it('keeps the finished records of a log cut off mid-line and says so', () => {
    const lines = unguarded.trimEnd().split('\n');
    const r = loadRunText('killed.jsonl', `${lines.slice(0, -1).join('\n')}\n${lines.at(-1)!.slice(0, 30)}`);
    if (!r.ok) throw new Error(r.message);
    expect(r.log.truncated).toBe(true);
    expect(r.log.end).toBeUndefined();
    expect(r.log.steps).toHaveLength(2);
  });

  it('rejects garbage with the line number and the reason, without throwing', () => {
    const [header, ...rest] = unguarded.split('\n');
    const r = loadRunText('bad.jsonl', `${header}\n${rest[0]}\n{"type":"step","step":-1}\n`);
    expect(r).toMatchObject({ ok: false, file: 'bad.jsonl', line: 3 });
    expect(r.ok ? '' : r.message).toMatch(/^line 3: invalid run-log record at step: /);
    expect(loadRunText('x.jsonl', 'hello world\n')).toMatchObject({ ok: false, line: 1, message: expect.stringMatching(/^line 1: not JSON: "hello world"/) });
    expect(loadRunText('empty.jsonl', '')).toMatchObject({ ok: false, line: undefined, message: expect.stringContaining('the run log is empty') });
    // A cut-off line anywhere but the end is corruption, not a crash: rejected.
    expect(loadRunText('mid.jsonl', `${header}\n{"type":"st\n${rest[0]}\n`)).toMatchObject({ ok: false, line: 2 });
  });
});

describe('loadRunFiles', () => {
  it(`opens at most ${MAX_RUNS} files and reports the rest as not opened`, async () => {
    const r = await loadRunFiles([source('a.jsonl', unguarded), source('b.jsonl', guarded), source('c.jsonl', guarded)]);
    expect(r.map((x) => [x.file, x.ok])).toEqual([
      ['a.jsonl', true],
      ['b.jsonl', true],
      ['c.jsonl', false],
    ]);
    expect(r[2]!.ok ? '' : r[2]!.message).toContain(`at most ${MAX_RUNS} runs`);
  });
});
