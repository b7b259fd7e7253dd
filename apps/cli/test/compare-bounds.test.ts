import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli';

const dir = mkdtempSync(join(tmpdir(), 'gradguard-compare-bounds-'));

/** A run log of 20 steps whose run name and transform are `nameChars` and 1,000,000 characters long. */
function logWithName(file: string, nameChars: number): string {
  const path = join(dir, file);
  const lines: unknown[] = [
    { type: 'header', version: 1, runId: file, name: 'n'.repeat(nameChars), startedAt: '2026-11-23T00:00:00.000Z', config: { transform: 't'.repeat(1_000_000) } },
  ];
  for (let step = 0; step < 20; step++) {
    lines.push({
      type: 'step', step, time: step, loss: 1 / (step + 1), globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false,
      learningRate: 0.1, maxAbs: 1, nonFinite: 0, layers: [{ layer: 'dense', size: 4, norm: 1, maxAbs: 1, nonFinite: 0, zeros: 0 }],
    });
  }
  lines.push({ type: 'end', status: 'completed', steps: 20, endedAt: '2026-11-23T00:00:01.000Z' });
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return path;
}

describe('gradguard compare on a log with an absurd run name', () => {
  it('a 15 MB run name and a 1 MB transform: bounded output, in seconds, within a 200 MB heap', () => {
    // 15 MB stays under the reader's longest-line limit (16 MiB); a name past it is refused before compare sees it.
    const a = logWithName('huge-name.jsonl', 15_000_000);
    const b = logWithName('normal.jsonl', 6);
    for (const json of [false, true]) {
      const t0 = Date.now();
      // Before the names were cut, the table padded each of its 11 rows to the name's length (hundreds of MB for one
      // 15 MB name; 2.5 GB with a 50 MB one): past this heap, node aborts.
      const r = spawnSync(process.execPath, ['--max-old-space-size=200', CLI, 'compare', a, b, ...(json ? ['--json'] : [])], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1' },
        maxBuffer: 1024 * 1024 * 1024,
      });
      const seconds = (Date.now() - t0) / 1000;
      expect(r.stderr, json ? '--json' : 'table').toBe('');
      expect(r.status).toBe(0);
      expect(seconds).toBeLessThan(15);
      expect(r.stdout.length).toBeLessThan(10_000);
      expect(r.stdout).toContain(`${'n'.repeat(200)}… (15,000,000 characters)`);
      expect(r.stdout).toContain(json ? 'verdict' : `${'t'.repeat(200)}… (1,000,000 characters)`);
    }
  }, 120_000);
});
