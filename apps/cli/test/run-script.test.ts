import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLogFile } from '@gradguard/reporter/node';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult } from './cli';

const APP = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh project directory holding `files`, whose node_modules resolves @tensorflow/tfjs (and gradguard) from the workspace. */
function project(files: Record<string, string>, options: { tfjs?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-run-'));
  dirs.push(dir);
  if (options.tfjs !== false) {
    mkdirSync(join(dir, 'node_modules', '@tensorflow'), { recursive: true });
    symlinkSync(join(APP, 'node_modules', '@tensorflow', 'tfjs'), join(dir, 'node_modules', '@tensorflow', 'tfjs'));
    symlinkSync(APP, join(dir, 'node_modules', 'gradguard'));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The built command in `cwd`, as a user's shell runs it: without the NODE_PATH that pnpm's test runner exports. */
function gradguard(args: readonly string[], options: { cwd: string }): CliResult {
  const { NODE_PATH: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, encoding: 'utf8', timeout: 170_000, env: { ...env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const logs = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => join(dir, f)) : []);
const noBanner = (s: string): string => s.replace(/=+\nHi, looks like you are running TensorFlow\.js in Node\.js[^\n]*\n=+\n/g, '');

// In the style of the tfjs examples: ESM, Sequential, model.fit, a console.log of the result. The model is the
// exploding fixture of ENVIRONMENT.md (SimpleRNN(32, relu), orthogonal recurrent gain 1.5, T 50, SGD 0.1), seeded.
const explodingEsm = (seed: number): string => `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.simpleRNN({ units: 32, inputShape: [50, 2], activation: 'relu', name: 'rnn',
  recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: ${seed} }), kernelInitializer: tf.initializers.glorotUniform({ seed: ${seed} }) }));
model.add(tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: ${seed + 100} }) }));
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
const xs = tf.randomUniform([128, 50, 2], 0, 1, 'float32', ${seed});
const ys = tf.randomUniform([128, 1], 0, 1, 'float32', ${seed + 1});
const h = await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0 });
console.log('final loss', h.history.loss.at(-1));
process.exitCode = 7;
`;

// CommonJS, a functional model, fitDataset, a string optimizer.
const functionalCjs = `const tf = require('@tensorflow/tfjs');
const input = tf.input({ shape: [4] });
const hidden = tf.layers.dense({ units: 16, activation: 'relu', name: 'hidden' }).apply(input);
const output = tf.layers.dense({ units: 1, name: 'output' }).apply(hidden);
const model = tf.model({ inputs: input, outputs: output, name: 'regressor' });
model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
const xs = tf.randomNormal([64, 4], 0, 3, 'float32', 5);
const ys = tf.sum(xs, 1, true);
const ds = tf.data.zip({ xs: tf.data.array(tf.unstack(xs)), ys: tf.data.array(tf.unstack(ys)) }).batch(16);
model.fitDataset(ds, { epochs: 3, verbose: 0 }).then((h) => console.log('epochs', h.epoch.length));
`;

// CommonJS custom loop: tf.train.adam + optimizer.minimize, the model used only inside the loss.
const customLoopCjs = `const tf = require('@tensorflow/tfjs');
const model = tf.sequential({ name: 'tiny', layers: [tf.layers.dense({ units: 8, inputShape: [3], activation: 'relu', name: 'd1' }), tf.layers.dense({ units: 1, name: 'd2' })] });
const opt = tf.train.adam(0.05);
const xs = tf.randomNormal([64, 3], 0, 1, 'float32', 1);
const ys = tf.sum(xs, 1, true);
for (let i = 0; i < 12; i++) {
  const loss = opt.minimize(() => tf.losses.meanSquaredError(ys, model.predict(xs)), true);
  if (i % 4 === 0) console.log('step', i);
  loss.dispose();
}
`;

describe('gradguard run: an unmodified tfjs script, every optimizer guarded', () => {
  it.each([1, 2])('ESM model.fit that explodes (seed %i): live diagnoses on stderr, its stdout and exit code kept, a log diagnose reads', (seed) => {
    const dir = project({ 'train.mjs': explodingEsm(seed) });
    const r = gradguard(['run', 'train.mjs'], { cwd: dir });
    expect(r.code, r.stderr).toBe(7); // the script's own exit code
    expect(r.stdout).toBe('final loss NaN\n'); // the script's stdout, nothing of gradguard's
    expect(r.stderr).toMatch(/✖ step \d+ critical exploding-gradient in layer "(rnn|head)" \(onset\)/);
    expect(r.stderr).toMatch(/sequential_\d+ \(SGD\): 8 steps, non-finite from step \d/);
    const [log] = logs(join(dir, 'gradguard-runs'));
    expect(log).toMatch(/train-sequential_\d+\.jsonl$/);
    expect(r.stderr).toContain(`next:\n  gradguard diagnose gradguard-runs/${log!.split('/').pop()}`);
    const run = readRunLogFile(log!);
    expect(run.steps).toHaveLength(8); // 128 / 32 × 2 epochs
    expect(run.steps[0]!.layers.map((l) => l.layer)).toEqual(['rnn', 'head']);
    expect(run.header.model?.params).toBe(2 * 32 + 32 * 32 + 32 + 32 + 1);
    expect(run.end).toMatchObject({ status: 'failed', reason: 'the script exited with code 7', steps: 8 });
    const d = gradguard(['diagnose', log!, '--json'], { cwd: dir });
    expect(d.code).toBe(1);
    expect(JSON.parse(d.stdout).diagnoses.map((x: { problem: string }) => x.problem)).toContain('exploding-gradient');
  });

  it('CommonJS fitDataset on a functional model with a string optimizer, with --clip-global-norm: clipped, logged per model', () => {
    const dir = project({ 'fit.cjs': functionalCjs });
    const r = gradguard(['run', 'fit.cjs', '--clip-global-norm', '1', '-o', 'logs'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(noBanner(r.stdout)).toBe('epochs 3\n');
    expect(r.stderr).toContain('gradguard: 1 run watched (mitigations: clipByGlobalNorm(1))');
    const run = readRunLogFile(join(dir, 'logs', 'fit-regressor.jsonl'));
    expect(run.header.config).toMatchObject({ script: 'fit.cjs', optimizer: 'Adam', learningRate: 0.001, transform: 'clipByGlobalNorm(1)' });
    expect(run.steps).toHaveLength(12); // 4 batches × 3 epochs
    expect(run.steps[0]!.layers.map((l) => l.layer)).toEqual(['hidden', 'output']);
    // Inputs of scale 3 give first gradients far above 1: clipped to exactly norm 1.
    expect(run.steps[0]!.preClipNorm).toBeGreaterThan(1);
    expect(run.steps[0]!.postClipNorm).toBeCloseTo(1, 5);
    expect(run.end).toMatchObject({ status: 'completed' });
  });

  it('a CommonJS custom loop with optimizer.minimize: the model learned from the loss function', () => {
    const dir = project({ 'loop.cjs': customLoopCjs });
    const r = gradguard(['run', 'loop.cjs', '--', 'ignored-arg'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(noBanner(r.stdout)).toBe('step 0\nstep 4\nstep 8\n');
    const run = readRunLogFile(join(dir, 'gradguard-runs', 'loop-tiny.jsonl'));
    expect(run.steps).toHaveLength(12);
    expect(run.steps.every((s) => s.layers.map((l) => l.layer).join() === 'd1,d2')).toBe(true);
    expect(run.header.model?.params).toBe(3 * 8 + 8 + 8 + 1);
    expect(run.steps.at(-1)!.loss!).toBeLessThan(run.steps[0]!.loss!);
  });

  it('the plain-node form: node --import gradguard/register, with the defaults (watch only, gradguard-runs/)', () => {
    const dir = project({ 'loop.cjs': customLoopCjs });
    const { NODE_PATH: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'gradguard/register', 'loop.cjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(noBanner(r.stdout)).toBe('step 0\nstep 4\nstep 8\n');
    expect(r.stderr).toContain('gradguard: 1 run watched (mitigations: none)');
    expect(readRunLogFile(join(dir, 'gradguard-runs', 'loop-tiny.jsonl')).steps).toHaveLength(12);
  });

  it('a script that throws mid-training keeps its exit code 1 and its log ends as failed', () => {
    const dir = project({ 'crash.cjs': customLoopCjs.replace("if (i % 4 === 0) console.log('step', i);", "if (i === 5) throw new Error('boom at 5');") });
    const r = gradguard(['run', 'crash.cjs'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boom at 5');
    const run = readRunLogFile(join(dir, 'gradguard-runs', 'crash-tiny.jsonl'));
    expect(run.steps).toHaveLength(6); // steps 0–5: the throw comes after step 5's minimize
    expect(run.end).toMatchObject({ status: 'failed', reason: 'the script exited with code 1' });
  });

  it('usage errors are exit 2 with the fix: no such script, a script that cannot load tfjs', () => {
    const dir = project({ 'plain.cjs': "console.log('no tfjs here');" }, { tfjs: false });
    const missing = gradguard(['run', 'nope.js'], { cwd: dir });
    expect(missing.code, missing.stdout + missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/no script at "nope\.js"/);
    const noTf = gradguard(['run', 'plain.cjs'], { cwd: dir });
    expect(noTf.code, noTf.stdout + noTf.stderr).toBe(2);
    expect(noTf.stdout).toBe('');
    expect(noTf.stderr).toMatch(/cannot load TensorFlow\.js .*npm install @tensorflow\/tfjs/);
    expect(existsSync(join(dir, 'gradguard-runs'))).toBe(false);
  });
});
