// Cost of guard's policies as a share of a plain training step, in one process.
//   npx tsx bench/step-cost.ts [steps] [filter: a regular expression on the variant names; the baseline always runs]
// Model: 20 × Dense(64, relu) + Dense(1) (84k parameters, 42 variables), batch 32, MSE, Adam, driven by
// optimizer.minimize. Every variant reads back once per step (the baseline reads the loss; guarded ones their stats).
// Variants run interleaved, one step each in turn, so drift in machine load hits all of them alike.
import * as tf from '@tensorflow/tfjs';
import { adaptiveGradClip, autoClip, chain, clipByGlobalNorm, guard, skipNonFinite, zClip, type GuardOptions } from '../src/index';

const steps = Number(process.argv[2] ?? 100);
const filter = new RegExp(process.argv[3] ?? '.');
const warmup = 10;

function makeModel(): tf.Sequential {
  const model = tf.sequential();
  for (let i = 0; i < 20; i++) model.add(tf.layers.dense({ units: 64, activation: 'relu', ...(i === 0 ? { inputShape: [64] } : {}) }));
  model.add(tf.layers.dense({ units: 1 }));
  return model;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const xs = tf.randomNormal([32, 64]);
  const ys = tf.randomNormal([32, 1]);
  const variants: Record<string, GuardOptions | null> = {
    'adam (baseline)': null,
    'guard, statistics off (statsEvery 1e9)': { statsEvery: 1e9 },
    'guard, watch only': {},
    'guard + clipByGlobalNorm': { transform: clipByGlobalNorm(1) },
    'guard + skipNonFinite + clipByGlobalNorm (exact skip)': { transform: chain(skipNonFinite(), clipByGlobalNorm(1)) },
    'guard + adaptiveGradClip': { transform: adaptiveGradClip(0.01) },
    'guard + autoClip (history 1000)': { transform: autoClip() },
    'guard + zClip': { transform: zClip() },
    'guard + rollback every 50': { rollback: { every: 50 } },
  };
  const runs = Object.entries(variants).filter(([name, o]) => o === null || filter.test(name)).map(([name, options]) => {
    const model = makeModel();
    const inner = tf.train.adam(1e-3);
    const opt = options ? guard(inner, { model, ...options }) : inner;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => tf.losses.meanSquaredError(ys, model.apply(xs) as tf.Tensor) as tf.Scalar;
    return { name, opt, vars, loss, times: [] as number[], guarded: options !== null };
  });
  for (let s = 0; s < warmup + steps; s++) {
    for (const r of runs) {
      const t0 = performance.now();
      const cost = r.opt.minimize(r.loss, true, r.vars)!;
      await cost.data();
      if (r.guarded) await (r.opt as ReturnType<typeof guard>).flush();
      cost.dispose();
      if (s >= warmup) r.times.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(runs[0]!.times);
  console.log(`backend cpu, ${steps} steps each, median ms per step (ratio to the baseline)`);
  for (const r of runs) console.log(`${r.name.padEnd(56)} ${median(r.times).toFixed(2).padStart(8)}  ×${(median(r.times) / base).toFixed(3)}`);
}

void main();
