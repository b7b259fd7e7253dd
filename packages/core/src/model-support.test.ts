import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModelSupport } from './model-support';
import { InvalidArgumentError } from './errors';

/** Tiny one-layer-of-interest models, each with the kernels wasm lacks (or not). */
const CASES: { name: string; build: () => tf.LayersModel; x: () => tf.Tensor; missing: string[] }[] = [
  {
    name: 'Conv1D',
    build: () => tf.sequential({ layers: [tf.layers.conv1d({ filters: 2, kernelSize: 2, inputShape: [5, 1] }), tf.layers.flatten()] }),
    x: () => tf.ones([2, 5, 1]),
    missing: ['Conv2DBackpropFilter'],
  },
  {
    name: 'Conv2D',
    build: () => tf.sequential({ layers: [tf.layers.conv2d({ filters: 2, kernelSize: 2, inputShape: [4, 4, 1] }), tf.layers.flatten()] }),
    x: () => tf.ones([2, 4, 4, 1]),
    missing: ['Conv2DBackpropFilter'],
  },
  {
    name: 'Conv2DTranspose',
    build: () =>
      tf.sequential({ layers: [tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2, inputShape: [3, 3, 1] }), tf.layers.flatten()] }),
    x: () => tf.ones([2, 3, 3, 1]),
    missing: ['Conv2DBackpropFilter'],
  },
  {
    name: 'DepthwiseConv2D',
    build: () =>
      tf.sequential({ layers: [tf.layers.depthwiseConv2d({ kernelSize: 2, inputShape: [4, 4, 2] }), tf.layers.flatten()] }),
    x: () => tf.ones([2, 4, 4, 2]),
    missing: ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
  },
  {
    name: 'SeparableConv2D',
    build: () =>
      tf.sequential({ layers: [tf.layers.separableConv2d({ filters: 2, kernelSize: 2, inputShape: [4, 4, 2] }), tf.layers.flatten()] }),
    x: () => tf.ones([2, 4, 4, 2]),
    missing: ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'Conv2DBackpropFilter'],
  },
  {
    name: 'Embedding',
    build: () => tf.sequential({ layers: [tf.layers.embedding({ inputDim: 10, outputDim: 3, inputLength: 4 }), tf.layers.flatten()] }),
    x: () => tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]], [2, 4], 'int32'),
    missing: ['UnsortedSegmentSum'],
  },
];

/** One real gradient step: throws when a kernel the backward pass needs is missing on the backend. */
function trainStep(model: tf.LayersModel, x: tf.Tensor): void {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar);
    tf.dispose([value, grads]);
  });
}

describe('checkModelSupport', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  for (const c of CASES) {
    it(`predicts that ${c.name} cannot train on wasm, and training really fails on the kernel it names`, () => {
      const model = c.build();
      const x = c.x();
      try {
        const support = checkModelSupport(model); // the active backend: wasm
        expect(support.backend).toBe('wasm');
        expect(support.supported).toBe(false);
        expect(support.unsupported).toHaveLength(1);
        expect(support.unsupported[0]!.className).toBe(c.name);
        expect(support.unsupported[0]!.missingKernels).toEqual(c.missing);
        expect(support.message).toContain(`cannot train on the 'wasm' backend`);
        expect(support.message).toContain(`no ${c.missing.join(', ')}`);
        // Inference works: the forward kernels exist.
        tf.tidy(() => model.predict(x));
        expect(() => trainStep(model, x)).toThrow(
          new RegExp(`Kernel '(${c.missing.join('|')})' not registered for backend 'wasm'`),
        );
        // The same model trains on cpu, and the check agrees.
        expect(checkModelSupport(model, 'cpu').supported).toBe(true);
      } finally {
        tf.dispose(x);
        model.dispose();
      }
    });
  }

  it('finds nothing wrong with a Dense + SimpleRNN + pooling model on wasm, which really trains', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 4, inputShape: [6, 2], returnSequences: true }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const x = tf.ones([2, 6, 2]);
    try {
      const support = checkModelSupport(model, 'wasm');
      expect(support).toMatchObject({ supported: true, unsupported: [], message: '' });
      expect(support.unchecked).toEqual(['Flatten', 'SimpleRNN']);
      expect(() => trainStep(model, x)).not.toThrow();
    } finally {
      tf.dispose(x);
      model.dispose();
    }
  });

  it('walks nested models and names the inner layer by its path', () => {
    const inner = tf.sequential({
      name: 'features',
      layers: [tf.layers.embedding({ name: 'tokens', inputDim: 10, outputDim: 3, inputLength: 4 })],
    });
    const outer = tf.sequential({ layers: [inner, tf.layers.flatten(), tf.layers.dense({ units: 1 })] });
    try {
      const support = checkModelSupport(outer, 'wasm');
      expect(support.unsupported).toEqual([
        { layer: 'features/tokens', className: 'Embedding', missingKernels: ['UnsortedSegmentSum'] },
      ]);
    } finally {
      outer.dispose();
    }
  });

  it('rejects what is not a model, and an empty backend name', () => {
    expect(() => checkModelSupport({} as never, 'wasm')).toThrow(InvalidArgumentError);
    expect(() => checkModelSupport(tf.sequential(), '')).toThrow(`checkModelSupport: backend must be a backend name`);
  });
});
