import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildSimpleRnn } from '@gradguard/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradguard } from './cli';
import { saveModelFiles } from './save-model';

const root = mkdtempSync(join(tmpdir(), 'gradguard-doctor-'));
const dirOf = (name: string): string => {
  const d = join(root, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  return d;
};
let exploding: string;
let healthy: string;
let deep: string;
let conv: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The exploding fixture: orthogonal recurrent kernel of gain 1.5, so its spectral radius is exactly 1.5.
  exploding = await saveModelFiles(buildSimpleRnn({ sequenceLength: 20, units: 16, recurrentGain: 1.5, seed: 3 }), dirOf('exploding'));
  healthy = await saveModelFiles(buildSimpleRnn({ sequenceLength: 20, units: 16, recurrentGain: 0.9, seed: 3 }), dirOf('healthy'));
  // 14 dense layers without normalization, the first initialized 4x too large.
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 16, inputShape: [8], activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ stddev: 2, seed: 1 }) }));
  for (let i = 0; i < 12; i++) m.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: i + 2 }) }));
  m.add(tf.layers.dense({ units: 1 }));
  deep = await saveModelFiles(m, dirOf('deep'));
  const c = tf.sequential();
  c.add(tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3, inputShape: [8, 8, 1], kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }));
  c.add(tf.layers.flatten());
  c.add(tf.layers.dense({ name: 'head', units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  conv = await saveModelFiles(c, dirOf('conv'));
});

describe('gradguard doctor', () => {
  it('finds the recurrent kernel with spectral radius 1.5 > 1 and says what r^T means, exit 1', () => {
    const r = gradguard(['doctor', exploding]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/simple_rnn_model, 321 params, 2 layers/);
    expect(r.stdout).toMatch(/rnn\s+SimpleRNN\s+all\s+1\.5\s+1\.5\s+20/);
    expect(r.stdout).toMatch(/▲ warning recurrent-instability in layer "rnn"/);
    expect(r.stdout).toContain(`r^T = ${(1.5 ** 20).toFixed(0)}`);
    const j = JSON.parse(gradguard(['doctor', exploding, '--json']).stdout);
    expect(j.recurrent[0].spectralRadius).toBeCloseTo(1.5, 4);
    expect(j.healthy).toBe(false);
  });

  it('--probe measures each layer\'s initial gradient norm on random data', () => {
    const j = JSON.parse(gradguard(['doctor', exploding, '--probe', '2', '--json']).stdout);
    expect(j.probe).toHaveLength(2);
    const [first] = j.probe;
    expect(first.layers.map((l: { layer: string }) => l.layer)).toEqual(['rnn', 'head']);
    const global = Math.hypot(...first.layers.map((l: { norm: number }) => l.norm));
    expect(first.globalNorm).toBeCloseTo(global, 3); // layers partition the variables
    expect(first.globalNorm).toBeGreaterThan(0);
    const text = gradguard(['doctor', exploding, '--probe']);
    expect(text.stdout).toMatch(/probe: 3 SGD steps on random data, gradient norm per layer:\n\s+layer\s+step 0\s+step 1\s+step 2\n\s+\(global\)/);
  });

  it('names the layer that cannot train on wasm (no Conv2DBackpropFilter there), skips the probe, and is fine on cpu', () => {
    const r = gradguard(['doctor', conv, '--probe', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      `▲ 1 layer(s) cannot train on the 'wasm' backend: conv (Conv2D: no Conv2DBackpropFilter). Train on another backend (cpu, tensorflow or webgpu), or replace those layers. (probe skipped)`,
    );
    const j = JSON.parse(gradguard(['doctor', conv, '--backend', 'wasm', '--json']).stdout);
    expect(j.support).toMatchObject({ backend: 'wasm', supported: false, unsupported: [{ layer: 'conv', className: 'Conv2D', missingKernels: ['Conv2DBackpropFilter'] }] });
    expect(j.healthy).toBe(false);
    const cpu = gradguard(['doctor', conv, '--probe', '2', '--backend', 'cpu', '--json']);
    const k = JSON.parse(cpu.stdout);
    expect(k.support.supported).toBe(true);
    expect(k.probe).toHaveLength(2); // it really trains there
    expect(k.probe[0].layers.map((l: { layer: string }) => l.layer)).toEqual(['conv', 'head']);
  });

  it('a SimpleRNN with gain 0.9 is healthy: exit 0', () => {
    const r = gradguard(['doctor', healthy]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/rnn\s+SimpleRNN\s+all\s+0\.9\s+0\.9/);
    expect(r.stdout).toMatch(/\nhealthy\n$/);
  });

  it('a deep stack without normalization and a 4x initial scale', () => {
    const j = JSON.parse(gradguard(['doctor', deep, '--json']).stdout);
    expect(j.depthWithoutNormalization).toBe(14);
    expect(j.initialGains[0].gain).toBeCloseTo(2 * Math.sqrt(8), 0); // RMS 2 x sqrt(fan-in 8) = 5.66, up to sampling
    expect(j.findings.map((f: { severity: string; problem: string }) => f.severity)).toContain('warning');
  });

  it('ten ReLU layers each at 2.27× He scale: not healthy — their scales compound (exit 1)', async () => {
    const m = tf.sequential();
    for (let i = 0; i < 10; i++) {
      m.add(tf.layers.dense({ units: 32, activation: 'relu', ...(i === 0 ? { inputShape: [16] } : {}), kernelInitializer: tf.initializers.randomNormal({ stddev: 2.27 * Math.sqrt(2 / (i === 0 ? 16 : 32)), seed: 10 + i }) }));
    }
    m.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
    const file = await saveModelFiles(m, dirOf('compound'));
    m.dispose();
    const r = gradguard(['doctor', file]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout, r.stdout).toMatch(/Layers "\S+" to "\S+" \(1[01]\) each start at [\d.]+–[\d.]+× He initialization: together they scale activations and gradients by about \d/);
  });

  it('a model file is untrusted text too: control characters in its layer names never reach the terminal', () => {
    // tfjs refuses such a name when it builds the model, and that error quotes it: exit 2, the name shown escaped.
    // The exploding fixture with its recurrent layer renamed in model.json (and in the weight names that follow it).
    const dir = dirOf('hostile');
    const hostile = 'rnn\u001b[2J\u001b]0;owned\u0007';
    const text = readFileSync(exploding, 'utf8').replaceAll('"rnn', `"${JSON.stringify(hostile).slice(1, -1)}`);
    writeFileSync(join(dir, 'model.json'), text);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), readFileSync(join(exploding, '..', 'group1-shard1of1.bin')));
    const r = gradguard(['doctor', join(dir, 'model.json')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('rnn\\u001b[2J'); // shown, escaped
    const bytes = Buffer.from(r.stdout + r.stderr);
    expect(bytes.filter((b) => b === 0x1b || b === 0x07)).toHaveLength(0);
  });

  it('missing weight files, truncated shards, garbage and missing model.json: one line, exit 2', () => {
    const d = dirOf('broken');
    const model = join(d, 'model.json');
    writeFileSync(model, readFileSync(exploding));
    const missing = gradguard(['doctor', model]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: weight file "group1-shard1of1.bin" listed in .*model\.json is missing \(looked for .*broken\/group1-shard1of1\.bin\)\.\n {2}hint: Copy every weight shard next to model.json/);
    writeFileSync(join(d, 'group1-shard1of1.bin'), readFileSync(join(exploding, '..', 'group1-shard1of1.bin')));
    truncateSync(join(d, 'group1-shard1of1.bin'), 100);
    const short = gradguard(['doctor', model]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/hold 100 bytes, but its manifest needs 1284/); // (2·16 + 16·16 + 16 + 16 + 1)·4 bytes
    writeFileSync(join(d, 'garbage.json'), 'PK\u0003\u0004');
    expect(gradguard(['doctor', join(d, 'garbage.json')]).stderr).toMatch(/^error: .*garbage\.json is not JSON\./);
    writeFileSync(join(d, 'other.json'), '{"name":"not a model"}');
    expect(gradguard(['doctor', join(d, 'other.json')]).stderr).toMatch(/is not a tfjs LayersModel: it needs "modelTopology" and "weightsManifest"/);
    const none = gradguard(['doctor', join(d, 'nope.json')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: no such model file: .*nope\.json\./);
  });
});

describe('gradguard --help', () => {
  it('lists every command, and each command has its own help with examples', () => {
    const r = gradguard(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'train', 'diagnose', 'report', 'compare', 'doctor']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    for (const c of ['train', 'diagnose', 'report', 'compare', 'doctor']) {
      const h = gradguard([c, '--help']);
      expect(h.code, `${c} --help: ${h.stderr}`).toBe(0);
      expect(h.stdout).toContain(`Usage: gradguard ${c}`);
      expect(h.stdout).toMatch(/Examples:\n {2}\$ gradguard /);
    }
  });
});
