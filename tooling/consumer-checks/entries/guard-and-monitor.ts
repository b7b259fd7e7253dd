// The same app guarded: what the README's three-line adoption adds to a browser bundle.
import * as tf from '@tensorflow/tfjs';
import { createMonitor } from '@gradguard/core';
import { guard } from '@gradguard/mitigations';

const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
const guarded = guard(tf.train.sgd(0.1), { model, monitor: createMonitor() });
model.compile({ optimizer: guarded, loss: 'meanSquaredError' });
await model.fit(tf.ones([8, 4]), tf.ones([8, 1]), { epochs: 1, callbacks: [guarded.callback()] });
await guarded.flush();
console.log(model.countParams(), guarded.monitor?.diagnoses.length);
