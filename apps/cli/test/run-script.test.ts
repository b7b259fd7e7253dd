import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLogFile } from '@gradguard/reporter/node';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyScript } from '../src/outcome';
import { CLI, type CliResult } from './cli';

const APP = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh project directory holding `files`. Its node_modules resolves @tensorflow/tfjs (and gradguard) from the
 * workspace (`tfjs: 'link'`, the default), holds a copy of its own (`'copy'`), or has no tfjs (`false`).
 */
function project(files: Record<string, string>, options: { tfjs?: 'link' | 'copy' | false; tfjsCoreVersion?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-run-'));
  dirs.push(dir);
  const tfjs = options.tfjs ?? 'link';
  if (tfjs === 'link') {
    mkdirSync(join(dir, 'node_modules', '@tensorflow'), { recursive: true });
    symlinkSync(join(APP, 'node_modules', '@tensorflow', 'tfjs'), join(dir, 'node_modules', '@tensorflow', 'tfjs'));
    symlinkSync(APP, join(dir, 'node_modules', 'gradguard'));
  } else if (tfjs === 'copy') {
    copyTfjs(dir, options.tfjsCoreVersion);
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const TFJS_PACKAGES = ['tfjs', 'tfjs-core', 'tfjs-layers', 'tfjs-backend-cpu', 'tfjs-backend-webgl', 'tfjs-converter', 'tfjs-data'];

/**
 * A project's own TensorFlow.js, as `npm install @tensorflow/tfjs` leaves it: each @tensorflow package a real folder
 * of its own under the project's node_modules (its package.json and the Node bundle its `main` names, copied from the
 * workspace's), so Node loads it as a module instance distinct from the workspace copy gradguard resolves. The
 * packages tfjs itself needs (seedrandom, long, node-fetch) are linked.
 */
function copyTfjs(dir: string, coreVersion?: string): void {
  const umbrella = realpathSync(createRequire(join(APP, 'package.json')).resolve('@tensorflow/tfjs'));
  const from = createRequire(umbrella);
  const folderOf = (main: string): string => {
    let d = dirname(main);
    while (!existsSync(join(d, 'package.json'))) d = dirname(d);
    return d;
  };
  for (const name of TFJS_PACKAGES) {
    const main = name === 'tfjs' ? umbrella : realpathSync(from.resolve(`@tensorflow/${name}`));
    const source = folderOf(main);
    const target = join(dir, 'node_modules', '@tensorflow', name);
    mkdirSync(join(target, relative(source, dirname(main))), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version: string };
    if (name === 'tfjs-core' && coreVersion) manifest.version = coreVersion;
    writeFileSync(join(target, 'package.json'), JSON.stringify(manifest));
    copyFileSync(main, join(target, relative(source, main)));
  }
  const core = createRequire(realpathSync(from.resolve('@tensorflow/tfjs-core')));
  for (const dep of ['seedrandom', 'long', 'node-fetch']) symlinkSync(folderOf(core.resolve(dep)), join(dir, 'node_modules', dep));
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
// Unshuffled: model.fit shuffles with Math.random, and about one batch order in ten or twenty lets this RNN through
// its first update without exploding (measured: a final loss of 0.09–0.11 instead of NaN), which made the tests flaky.
const explodingEsm = (seed: number, exitCode = 7): string => `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.simpleRNN({ units: 32, inputShape: [50, 2], activation: 'relu', name: 'rnn',
  recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: ${seed} }), kernelInitializer: tf.initializers.glorotUniform({ seed: ${seed} }) }));
model.add(tf.layers.dense({ units: 1, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: ${seed + 100} }) }));
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
const xs = tf.randomUniform([128, 50, 2], 0, 1, 'float32', ${seed});
const ys = tf.randomUniform([128, 1], 0, 1, 'float32', ${seed + 1});
const h = await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
console.log('final loss', h.history.loss.at(-1));
process.exitCode = ${exitCode};
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

describe('gradguard run --strict: the script exit code is never hidden; a CI run can fail on a diagnosis', () => {
  it.each([1, 2])('seed %i: an exploding script that exits 0 keeps 0, exits 1 with --strict; clipped, --strict gives 3 exactly when problems were found', (seed) => {
    const dir = project({ 'boom.mjs': explodingEsm(seed, 0) });
    const plain = gradguard(['run', 'boom.mjs'], { cwd: dir });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe('final loss NaN\n');
    expect(plain.stderr).toContain("run failed (exit code 0: the script's own; --strict gives 1)");

    const strict = gradguard(['run', 'boom.mjs', '--strict', '-o', 'strict'], { cwd: dir });
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stderr).toMatch(/critical exploding-gradient/);
    expect(strict.stderr).toContain('run failed (exit code 1: the --strict verdict)');
    expect(readRunLogFile(logs(join(dir, 'strict'))[0]!).end).toMatchObject({ status: 'completed' }); // the script ended normally

    const clipped = gradguard(['run', 'boom.mjs', '--strict', '--clip-global-norm', '1', '-o', 'clipped'], { cwd: dir });
    const run = readRunLogFile(logs(join(dir, 'clipped'))[0]!);
    expect(run.steps).toHaveLength(8);
    expect(run.steps.every((s) => Number.isFinite(s.loss))).toBe(true);
    expect(Math.max(...run.steps.map((s) => s.preClipNorm))).toBeGreaterThan(1); // the clip did work
    const problems = run.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info');
    expect(clipped.code, clipped.stderr).toBe(problems.length > 0 ? 3 : 0);
    expect(clipped.stderr).toContain(problems.length > 0 ? 'problems found and handled: the mitigations held (finite weights, run completed) (exit code 3: the --strict verdict)' : 'healthy: no problems found (exit code 0: the --strict verdict)');
  });

  it("a script's own non-zero exit code wins over --strict; a healthy script exits 0 with --strict", () => {
    const dir = project({ 'boom.mjs': explodingEsm(1, 7), 'loop.cjs': customLoopCjs });
    const own = gradguard(['run', 'boom.mjs', '--strict'], { cwd: dir });
    expect(own.code, own.stderr).toBe(7);
    expect(own.stderr).toContain("run failed (exit code 7: the script's own)");
    const healthy = gradguard(['run', 'loop.cjs', '--strict'], { cwd: dir });
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stderr).toContain('healthy: no problems found (exit code 0: the --strict verdict)');
  });

  it('the plain-node form takes strict from GRADGUARD_RUN', () => {
    const dir = project({ 'boom.mjs': explodingEsm(2, 0) });
    const { NODE_PATH: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'gradguard/register', 'boom.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...env, NO_COLOR: '1', GRADGUARD_RUN: JSON.stringify({ strict: true }) } });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('run failed (exit code 1: the --strict verdict)');
  });

  it('classifyScript: the worst run decides, the script code always wins when not 0', () => {
    const ok = { completed: true, weightsFinite: true, finalLoss: 0.1, firstNonFiniteStep: null, guarded: true, problems: 0 };
    const handled = { ...ok, problems: 2 };
    const failed = { ...ok, weightsFinite: false };
    expect(classifyScript(0, [], true)).toEqual({ outcome: 'healthy', code: 0 });
    expect(classifyScript(0, [ok, handled], true)).toEqual({ outcome: 'handled', code: 3 });
    expect(classifyScript(0, [ok, handled], false)).toEqual({ outcome: 'handled', code: 0 });
    expect(classifyScript(0, [handled, failed, ok], true)).toEqual({ outcome: 'failed', code: 1 });
    expect(classifyScript(0, [{ ...ok, guarded: false, problems: 1 }], true)).toEqual({ outcome: 'unhandled', code: 1 });
    expect(classifyScript(9, [failed], true)).toEqual({ outcome: 'failed', code: 9 });
    expect(classifyScript(9, [ok], false)).toEqual({ outcome: 'healthy', code: 9 });
    // A custom loop that reports no loss is judged by its weights.
    expect(classifyScript(0, [{ ...ok, finalLoss: null }], true)).toEqual({ outcome: 'healthy', code: 0 });
  });
});

// What the script itself sees of tfjs after training: every tfjs-core file loaded in the process, and whether the
// optimizers registered with ITS serialization map were hooked by gradguard (what makes a guarded checkpoint reload).
const engineReport = (req: string): string => `
const cores = Object.keys(${req}.cache).filter((k) => k.endsWith('tf-core.node.js'));
const adam = tf.serialization.SerializationMap.getMap().classNameMap.Adam;
console.log(JSON.stringify({ cores, restoresGuard: adam[1][Symbol.for('gradguard.restoreGuard')] === true, guarded: typeof model.optimizer.inner === 'object' }));
`;

describe('gradguard run in a project with its own tfjs: gradguard loads the same copy (one tfjs-core)', () => {
  // gradguard's own tfjs-core, where the workspace's @gradguard/core finds it.
  const ours = realpathSync(createRequire(createRequire(join(APP, 'package.json')).resolve('@gradguard/core')).resolve('@tensorflow/tfjs-core'));

  // ESM, model.fit with a string optimizer; and a CommonJS custom loop whose optimizer the model also compiles with.
  const fitEsm = `import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const model = tf.sequential({ name: 'tiny', layers: [tf.layers.dense({ units: 8, inputShape: [3], activation: 'relu', name: 'd1' }), tf.layers.dense({ units: 1, name: 'd2' })] });
model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
const xs = tf.randomNormal([64, 3], 0, 3, 'float32', 1);
await model.fit(xs, tf.sum(xs, 1, true), { epochs: 3, batchSize: 16, verbose: 0 });
${engineReport('require')}`;
  const loopCjs = `${customLoopCjs.replace('const opt = tf.train.adam(0.05);', "const opt = tf.train.adam(0.05);\nmodel.compile({ optimizer: opt, loss: 'meanSquaredError' });")}${engineReport('require')}`;

  it.each([
    ['ESM model.fit', 'own.mjs', fitEsm],
    ['CommonJS custom minimize loop', 'own.cjs', loopCjs],
  ])('%s', (_, file, script) => {
    const dir = project({ [file]: script }, { tfjs: 'copy' });
    const theirs = realpathSync(createRequire(join(dir, file)).resolve('@tensorflow/tfjs-core'));
    expect(theirs).toBe(join(realpathSync(dir), 'node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js'));
    expect(theirs).not.toBe(ours); // two copies on disk: without the redirect the process would load both

    const r = gradguard(['run', file, '--clip-global-norm', '1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(noBanner(r.stdout).trim().split('\n').at(-1)!);
    expect(report).toEqual({ cores: [theirs], restoresGuard: true, guarded: true });
    // The guard measured the script's variables, attributed to the script's layers, and clipped them.
    const run = readRunLogFile(logs(join(dir, 'gradguard-runs'))[0]!);
    expect(run.steps.length).toBe(12);
    expect(run.steps.every((s) => s.layers.map((l) => l.layer).join() === 'd1,d2' && s.postClipNorm <= 1 + 1e-6)).toBe(true);
    expect(run.header.model?.params).toBe(3 * 8 + 8 + 8 + 1);
  });

  it("a project tfjs-core outside gradguard's peer range is a usage error (exit 2) that says which version to install", () => {
    const dir = project({ 'old.cjs': customLoopCjs }, { tfjs: 'copy', tfjsCoreVersion: '3.21.0' });
    const r = gradguard(['run', 'old.cjs'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/loads @tensorflow\/tfjs-core 3\.21\.0 \(.*old|loads @tensorflow\/tfjs-core 3\.21\.0/);
    expect(r.stderr).toContain('gradguard needs ^4.22.0. Upgrade the script\'s tfjs (npm install @tensorflow/tfjs@^4.22.0).');
  });
});
