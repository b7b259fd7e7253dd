import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = new URL('..', import.meta.url).pathname;

/** Runs the first `ts` block of the README (after `heading`, when given) as a user would: tsx, core from its source. */
function runReadmeExample(heading?: string): { code: string; out: string } {
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  const section = heading === undefined ? readme : readme.slice(readme.indexOf(heading));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  const dir = mkdtempSync(join(pkg, '.readme-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(file, code);
    const out = execFileSync(join(pkg, 'node_modules/.bin/tsx'), ['--conditions=@gradguard/source', file], {
      cwd: pkg,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { code, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The README's example is real code: run it as a user would (tsx, resolving @gradguard/core to its source).
describe('README example', () => {
  it('runs and prints the diagnoses its comments show', () => {
    const { out } = runReadmeExample();
    expect(out).toContain('warning Layer "rnn": recurrent kernel spectral radius r = 1.5 > 1: gradients through T = 50 steps can grow like r^T = 6.38e+8.');
    expect(out).toMatch(/step 0 critical exploding-gradient \[rnn\]: The global gradient norm is 1\.94e\+9/);
    expect(out).toMatch(/step 0 critical recurrent-instability \[rnn\]/);
    expect(out).toMatch(/step 1 critical non-finite \[rnn\]: 1153 of 1153 gradient entries/);
    // Weights measured before each update: step 0's update is seen at step 1.
    expect(out).toMatch(/step 1 critical weight-growth \[head\]: Layer "head" weight norm is 3\.20e\+7, 2\.29e\+7× its value at step 0/);
  }, 60_000);
});

describe('README "Causes named first" example', () => {
  it('runs and prints the three diagnoses its comments show, the cause first', () => {
    const { out } = runReadmeExample('## Causes named first');
    const lines = out.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'step 1 critical loss-divergence [embedding]',
      'step 1 warning weight-growth [embedding]',
      'step 6 warning saturation [decoder]',
    ]);
    expect(lines[0]).toContain('The learning rate is too high for this model: the loss rose to 4.992, ×2.009 its best level 2.485');
    expect(lines[0]).toContain('Try 0.1 (10× lower than the current 1).');
    expect(lines[2]).toContain('99.76 % of layer "decoder" (LSTM)\'s gradient entries have been exactly zero for 5 steps (since step 2)');
  }, 60_000);
});

describe('README "Weights that start with one sign" example', () => {
  it('runs and prints the one warning its comment shows', () => {
    const { code, out } = runReadmeExample('## Weights that start with one sign');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const comment = /\/\/ (warning vanishing-gradient \[[^\]]+\]: Layers "[^"]+" to "[^"]+" \(4\) start with weights of one)/.exec(code)![1]!;
    expect(lines[0]!.startsWith(comment), `${lines[0]}\nvs the README: ${comment}`).toBe(true);
    expect(lines[0]).toContain('the tanh units saturate together and the gradient through them vanishes. Use a zero-mean initializer');
  }, 60_000);
});
