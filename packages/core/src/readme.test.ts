import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's example is real code: run it as a user would (tsx, resolving @gradguard/core to its source).
describe('README example', () => {
  it('runs and prints the diagnoses its comments show', () => {
    const pkg = new URL('..', import.meta.url).pathname;
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const dir = mkdtempSync(join(pkg, '.readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, code);
      const out = execFileSync(join(pkg, 'node_modules/.bin/tsx'), ['--conditions=@gradguard/source', file], {
        cwd: pkg,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      expect(out).toContain('warning Layer "rnn": recurrent kernel spectral radius r = 1.5 > 1: gradients through T = 50 steps can grow like r^T = 6.38e+8.');
      expect(out).toMatch(/step 0 critical exploding-gradient \[rnn\]: The global gradient norm is 1\.94e\+9/);
      expect(out).toMatch(/step 0 critical recurrent-instability \[rnn\]/);
      expect(out).toMatch(/step 1 critical non-finite \[rnn\]: 1153 of 1153 gradient entries/);
      // Weights measured before each update: step 0's update is seen at step 1.
      expect(out).toMatch(/step 1 critical weight-growth \[head\]: Layer "head" weight norm is 3\.20e\+7, 2\.29e\+7× its value at step 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
