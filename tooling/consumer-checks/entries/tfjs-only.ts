// A bare tfjs app: the baseline every other entry is measured against.
import * as tf from '@tensorflow/tfjs';

const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
await model.fit(tf.ones([8, 4]), tf.ones([8, 1]), { epochs: 1 });
console.log(model.countParams());
