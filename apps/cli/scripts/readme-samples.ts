// Regenerates the sample outputs of apps/cli/README.md's tour and the root README's "What `gradguard demo` prints":
// runs each command with the built dist/cli.js in a scratch directory and prints the console blocks (what a terminal
// shows: stderr, then stdout, then `[exit N]`). Paste them over the README's blocks; this script edits no file.
//
//   npx turbo run build --filter=gradguard...        # the CLI and the packages it loads
//   cd apps/cli && npx tsx scripts/readme-samples.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CLI } from '../test/cli';
import { saveModelFiles } from '../test/save-model';

const cwd = mkdtempSync(join(tmpdir(), 'gradguard-readme-'));
const BANNER = /=+\nHi, looks like you are running TensorFlow\.js in Node\.js[^\n]*\n=+\n/g;

/** One console block: the command as typed, what it printed, the exit code. */
function block(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 600_000 });
  return `$ gradguard ${args.join(' ')}\n${`${r.stderr.replace(BANNER, '')}${r.stdout}`.replace(/\n+$/, '')}\n[exit ${r.status}]`;
}

/** The doctor sample: Dense(16, relu) × 13 + Dense(1) over 8 inputs (3,425 params), seeded, the first kernel 4× He. */
function deepMlp(): tf.LayersModel {
  const model = tf.sequential();
  for (let i = 0; i < 14; i++) {
    const last = i === 13;
    model.add(
      tf.layers.dense({
        units: last ? 1 : 16,
        activation: last ? 'linear' : 'relu',
        ...(i === 0 ? { inputShape: [8] } : {}),
        // He initialization has RMS·√fan-in = √2; a variance scale of 32 gives √32 = 4·√2.
        kernelInitializer: i === 0 ? tf.initializers.varianceScaling({ scale: 32, mode: 'fanIn', distribution: 'uniform', seed: 1 }) : tf.initializers.glorotUniform({ seed: i + 1 }),
      }),
    );
  }
  return model;
}

const train = ['train', '--recurrent-gain', '1.5', '--lr', '0.1', '--epochs', '6'];
const out = ['## apps/cli/README.md', ''];
out.push(block([...train, '--log', 'runs/exploding.jsonl']), '');
out.push(block([...train, '--clip-global-norm', '1', '--log', 'runs/clipped.jsonl', '--html', 'runs/clipped.html', '--tensorboard', 'runs/tb', '-q']), '');
out.push(block(['compare', 'runs/exploding.jsonl', 'runs/clipped.jsonl']), '');
out.push(block(['diagnose', 'runs/exploding.jsonl']), '');
out.push(block(['report', 'runs/exploding.jsonl', '-o', 'runs/exploding.html']), '');
mkdirSync(join(cwd, 'deep-mlp'));
await saveModelFiles(deepMlp(), join(cwd, 'deep-mlp'));
out.push(block(['doctor', 'deep-mlp/model.json', '--probe', '2']), '');
out.push([block(['diagnose', 'runs/missing.jsonl']), block(['train', '--optimizer', 'adagrad']), block(['train', '--model', 'mlp', '--task', 'adding'])].join('\n'), '');
out.push('## README.md: gradguard demo', '', block(['demo', '-o', 'runs']));
process.stdout.write(`${out.join('\n')}\n`);
process.stderr.write(`(scratch directory: ${cwd})\n`);
