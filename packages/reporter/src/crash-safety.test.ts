import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { readRunLogFile } from './node';

/** Bundles the child script from source (the same code the package ships) so the test needs no build. */
function bundleChild(dir: string, script = 'write-forever'): string {
  const out = join(dir, `${script}.mjs`);
  buildSync({
    entryPoints: [fileURLToPath(new URL(`../test/${script}.ts`, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@gradguard/source'],
    outfile: out,
    logLevel: 'silent',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return out;
}

function waitFor(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (b) => {
      seen += String(b);
      if (seen.includes(text)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before saying ${text}`)));
  });
}

describe('a run log survives SIGKILL', () => {
  it('a process killed mid-run leaves a log whose every finished step reads back in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-kill-'));
    const log = join(dir, 'run.jsonl');
    const child = spawn(process.execPath, [bundleChild(dir), log], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitFor(child, 'ready');
    // Let it write for a while, then kill it without warning: no exit handlers, no flush, no end record.
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise((r) => child.on('exit', (_code, signal) => r(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const text = readFileSync(log, 'utf8');
    const read = readRunLogFile(log);
    expect(read.header.name).toBe('killed');
    expect(read.end).toBeUndefined();
    expect(read.steps.length).toBeGreaterThan(50);
    expect(read.steps.map((s) => s.step)).toEqual(read.steps.map((_, i) => i));
    const last = read.steps.at(-1)!;
    expect(last.loss).toBeCloseTo(1 / (last.step + 1), 12);
    expect(last.layers).toHaveLength(24);
    // Every complete line was kept; a cut-off last line, if the kill landed mid-write, is dropped and flagged.
    const complete = text.split('\n').length - 1;
    expect(read.steps.length).toBe(complete - 1);
    expect(read.truncated).toBe(!text.endsWith('\n'));
  }, 30_000);
});

describe('a run log survives an uncaught exception', () => {
  it('step records still buffered when the script throws are written by the exit hook, then the process dies with code 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-throw-'));
    const log = join(dir, 'run.jsonl');
    const r = spawnSync(process.execPath, [bundleChild(dir, 'throw-midrun'), log], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the training script crashed at step 37');
    const read = readRunLogFile(log);
    expect(read.header.name).toBe('thrown');
    expect(read.steps.map((s) => s.step)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    expect(read.steps.at(-1)!.loss).toBeCloseTo(1 / 37, 12);
    expect(read.truncated).toBe(false);
  }, 30_000);
});
