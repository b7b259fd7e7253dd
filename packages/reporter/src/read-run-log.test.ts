import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunLogRecord, encodeRunLogRecord, parseRunLog } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, readRunLogFile } from './node';

const dir = mkdtempSync(join(tmpdir(), 'gradguard-read-'));

const header: RunLogRecord = { type: 'header', version: 1, runId: 'r', name: 'run ✖ ü', startedAt: '2026-01-01T00:00:00.000Z', config: {} };
const step = (i: number): RunLogRecord => ({
  type: 'step', step: i, time: i, loss: 1 / (i + 1), globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false,
  learningRate: 0.1, maxAbs: 1, nonFinite: 0,
  // Multi-byte names, so that 64 KiB chunk boundaries fall inside UTF-8 sequences somewhere.
  layers: Array.from({ length: 12 }, (_, l) => ({ layer: `dense_${l}_✖ü😀`, size: 4, norm: i + l, maxAbs: 1, nonFinite: 0, zeros: 0 })),
});
const logText = (n: number): string => [header, ...Array.from({ length: n }, (_, i) => step(i))].map(encodeRunLogRecord).join('\n') + '\n';

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A FIFO with a writer process behind it that writes `text` in `parts` pieces, pausing between them. */
function fifoFedWith(name: string, text: string, parts = 3): { path: string; writer: ChildProcess } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const source = file(`${name}.src`, text);
  const script = `const fs=require('fs');const t=fs.readFileSync(${JSON.stringify(source)});const fd=fs.openSync(${JSON.stringify(path)},'w');
    const n=${parts};let i=0;const next=()=>{if(i===n){fs.closeSync(fd);return;}const a=Math.floor(t.length*i/n),b=Math.floor(t.length*(i+1)/n);
    try{fs.writeSync(fd,t.subarray(a,b));}catch{process.exit(0);}i++;setTimeout(next,30);};next();`;
  return { path, writer: spawn(process.execPath, ['-e', script], { stdio: 'ignore' }) };
}

function timed<T>(f: () => T): { value: T | Error; ms: number } {
  const t0 = performance.now();
  try {
    return { value: f(), ms: performance.now() - t0 };
  } catch (e) {
    return { value: e as Error, ms: performance.now() - t0 };
  }
}

describe('readRunLogFile: only regular files and pipes, in bounded memory', () => {
  it('refuses endless devices, directories and sockets at once, naming the path', async () => {
    const socket = join(dir, 'sock');
    const server = createServer().listen(socket);
    await new Promise((r) => server.once('listening', r));
    try {
      for (const [path, kind] of [['/dev/zero', 'a character device'], ['/dev/urandom', 'a character device'], [dir, 'a directory'], [socket, 'a socket']]) {
        const r = timed(() => readRunLogFile(path!));
        expect(r.value).toBeInstanceOf(Error);
        expect((r.value as Error).message).toBe(`${path} is ${kind}, not a run log. A run log is a regular file (or a pipe) written by \`gradguard train --log run.jsonl\`.`);
        expect(r.ms).toBeLessThan(1000); // before: /dev/zero was read until memory ran out (6 GB)
      }
    } finally {
      server.close();
    }
  });

  it('reads a log through a FIFO from a writer that writes it in pieces', async () => {
    const text = logText(40);
    const { path, writer } = fifoFedWith('fed.fifo', text, 5);
    const log = readRunLogFile(path);
    expect(log.steps.map((s) => s.step)).toEqual([...Array(40).keys()]);
    expect(log).toEqual(parseRunLog(text));
    await new Promise((r) => writer.on('exit', r));
  });

  it('reads a log of many 64 KiB chunks exactly as parseRunLog reads its text', () => {
    const text = logText(900); // ~1 MB: chunk boundaries fall mid-line and inside multi-byte characters
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_000_000);
    const log = readRunLogFile(file('big.jsonl', text));
    expect(log).toEqual(parseRunLog(text));
    expect(log.steps[899]!.layers[11]!.layer).toBe('dense_11_✖ü😀');
  });

  it('refuses a file or a pipe over maxBytes, naming the flag that raises it', async () => {
    const text = logText(40);
    const path = file('capped.jsonl', text);
    expect(() => readRunLogFile(path, { maxBytes: 4096 })).toThrow(
      `${path} is larger than the 4 KiB a run log may hold (${Buffer.byteLength(text)} bytes). If the log is genuine, raise the limit: \`gradguard ... --max-log-bytes <n>\``,
    );
    expect(readRunLogFile(path, { maxBytes: Buffer.byteLength(text) }).steps).toHaveLength(40);
    // A pipe has no size to check up front: the reader stops once it has read past the cap.
    const { path: fifo, writer } = fifoFedWith('endless.fifo', 'x'.repeat(4 << 20), 4);
    const r = timed(() => readRunLogFile(fifo, { maxBytes: 1 << 20 }));
    expect((r.value as Error).message).toMatch(/endless\.fifo is larger than the 1 MiB a run log may hold\. .*--max-log-bytes/);
    writer.kill();
  });

  it(`a line over ${DEFAULT_MAX_LINE_BYTES / 2 ** 20} MiB is a bad line, not a buffer without end`, () => {
    const lines = logText(3).split('\n');
    lines.splice(2, 0, `{"type":"step","junk":"${'z'.repeat(DEFAULT_MAX_LINE_BYTES)}"}`);
    const path = file('long-line.jsonl', lines.join('\n'));
    expect(() => readRunLogFile(path)).toThrow(/long-line\.jsonl: line 3: the line is longer than 16 MiB \(16777241 bytes\)\..*salvage/);
    const salvaged = readRunLogFile(path, { salvage: true });
    expect(salvaged.steps.map((s) => s.step)).toEqual([0, 1, 2]);
    expect(salvaged.skipped).toEqual({ count: 1, lines: [{ line: 3, reason: 'the line is longer than 16 MiB (16777241 bytes).' }] });
  });

  it('salvage: a bad line in the middle is skipped and reported; without it the log is rejected at that line', () => {
    const lines = logText(6).split('\n');
    lines.splice(3, 0, '{"type":"step","step":'); // a half-written record in the middle, then a duplicate step
    lines.splice(6, 0, encodeRunLogRecord(step(4)));
    const path = file('bad-middle.jsonl', lines.join('\n'));
    expect(() => readRunLogFile(path)).toThrow(/bad-middle\.jsonl: line 4: not JSON: "\{\\"type\\":\\"step\\",\\"step\\":"\./);
    const log = readRunLogFile(path, { salvage: true });
    expect(log.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.skipped!.lines).toEqual([
      { line: 4, reason: 'not JSON: "{\\"type\\":\\"step\\",\\"step\\":".' },
      { line: 8, reason: 'step 4 appears twice (a duplicate step).' },
    ]);
    // The cut-off last line of a killed run is still tolerated without salvage.
    const cut = file('cut.jsonl', logText(3) + encodeRunLogRecord(step(3)).slice(0, 30));
    expect(readRunLogFile(cut)).toMatchObject({ truncated: true, skipped: { count: 0 } });
  });
});
