import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { adaptiveGradClip, autoClip, clipByGlobalNorm, clipByNorm, clipByValue, spikeClip, zClip, guard } from './index';
import { trainExplodingMlp, trainExplodingRnn } from './test/fixtures';

async function spikeRun(t: any, factor: number, opt = () => tf.train.sgd(0.1)) {
  const model = buildSimpleRnn({ sequenceLength: 20, recurrentGain: 1.0, seed: 2, units: 16 });
  const { xs, ys } = addingProblem({ sequenceLength: 20, samples: 32 * 40, seed: 2 });
  const g = guard(opt(), t ? { transform: t } : {});
  const norms: number[] = [];
  g.onStep((s) => norms.push(s.preClipNorm));
  for (let i = 0; i < 40; i++) {
    const x = xs.slice([i * 32, 0, 0], [32, 20, 2]);
    const y = ys.slice([i * 32, 0], [32, 1]);
    const xi = i === 30 ? x.mul(factor) : x;
    g.minimize(() => tf.losses.meanSquaredError(y, model.apply(xi) as tf.Tensor) as tf.Scalar);
    tf.dispose([x, y, xi]);
  }
  await g.flush();
  const fin = (await Promise.all(model.getWeights().map(async (w) => (await w.data()).every(Number.isFinite)))).every(Boolean);
  const loss = await (tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor)).data();
  model.dispose(); tf.dispose([xs, ys]);
  return `${fin} loss=${loss[0]!.toPrecision(3)} norms ${norms.slice(27, 34).map((x) => x.toPrecision(3)).join(' ')}`;
}

it('scratch', async () => {
  await tf.setBackend('cpu');
  for (const f of [100, 1000, 1e4]) {
    for (const [k, t] of Object.entries({ none: undefined, spike: spikeClip(), spike10: spikeClip({threshold: 10}) })) console.log('ADAM', f, k, await spikeRun(t, f, () => tf.train.adam(0.01)));
    console.log('SGD', f, 'spike10', await spikeRun(spikeClip({threshold: 10}), f));
  }
}, 300000);
