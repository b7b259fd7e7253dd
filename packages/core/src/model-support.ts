import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, describeValue } from './errors';

/**
 * Kernels a layer needs to train (forward and backward), by layer class. Gradients of `conv2d` need
 * `Conv2DBackpropFilter`; of `gather` (Embedding), `UnsortedSegmentSum`: neither exists on the wasm backend in
 * tfjs 4.22, so those layers run inference there but cannot train.
 */
export const TRAINING_KERNELS: Readonly<Record<string, readonly string[]>> = {
  Dense: ['BatchMatMul'],
  Conv1D: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
  Conv2D: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
  Conv2DTranspose: ['Conv2DBackpropInput', 'Conv2D', 'Conv2DBackpropFilter'],
  Conv3D: ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
  DepthwiseConv2D: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
  SeparableConv2D: [
    'DepthwiseConv2dNative',
    'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter',
    'Conv2D',
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
  ],
  Embedding: ['GatherV2', 'UnsortedSegmentSum'],
  MaxPooling1D: ['MaxPool', 'MaxPoolGrad'],
  MaxPooling2D: ['MaxPool', 'MaxPoolGrad'],
  AveragePooling1D: ['AvgPool', 'AvgPoolGrad'],
  AveragePooling2D: ['AvgPool', 'AvgPoolGrad'],
  MaxPooling3D: ['MaxPool3D', 'MaxPool3DGrad'],
  AveragePooling3D: ['AvgPool3D', 'AvgPool3DGrad'],
  UpSampling2D: ['ResizeNearestNeighbor', 'ResizeNearestNeighborGrad'],
};

/** The slice of a tfjs-layers model or layer this check reads. */
export interface ModelLike {
  readonly name: string;
  readonly layers?: readonly ModelLike[];
  getClassName(): string;
}

/** A layer that cannot train on the backend, and the kernels it lacks. */
export interface UnsupportedLayer {
  /** Layer path, nested models joined with `/`. */
  readonly layer: string;
  readonly className: string;
  readonly missingKernels: readonly string[];
}

export interface ModelSupport {
  readonly backend: string;
  /** True when every layer whose kernels are known has them all on `backend`. */
  readonly supported: boolean;
  readonly unsupported: readonly UnsupportedLayer[];
  /** Layer classes this check has no kernel list for (their support is not known). */
  readonly unchecked: readonly string[];
  /** One sentence for a person: which layers cannot train and what to do. Empty when supported. */
  readonly message: string;
}

/**
 * Says, before training, which layers of `model` cannot train on `backend` (default: the active one), by looking up
 * the kernels each layer class needs in tfjs's kernel registry (`tf.getKernel(name, backend)`), as tfjs itself does
 * when it dispatches. Walks nested models.
 *
 * @example
 * const support = checkModelSupport(model, 'wasm');
 * if (!support.supported) console.warn(support.message);
 */
export function checkModelSupport(model: ModelLike, backend: string = tf.getBackend()): ModelSupport {
  if (model == null || typeof model !== 'object' || !Array.isArray(model.layers)) {
    throw new InvalidArgumentError(
      `checkModelSupport: expected a tfjs LayersModel (with .layers), got ${describeValue(model)}.`,
      'Pass the model you are about to train, e.g. the result of tf.sequential().',
    );
  }
  if (typeof backend !== 'string' || backend === '') {
    throw new InvalidArgumentError(
      `checkModelSupport: backend must be a backend name such as 'wasm', got ${describeValue(backend)}.`,
    );
  }
  const unsupported: UnsupportedLayer[] = [];
  const unchecked = new Set<string>();
  const walk = (layers: readonly ModelLike[], prefix: string): void => {
    for (const layer of layers) {
      const path = prefix ? `${prefix}/${layer.name}` : layer.name;
      if (Array.isArray(layer.layers) && layer.layers.length > 0) {
        walk(layer.layers, path);
        continue;
      }
      const className = layer.getClassName();
      const kernels = TRAINING_KERNELS[className];
      if (kernels === undefined) {
        unchecked.add(className);
        continue;
      }
      const missing = kernels.filter((k) => tf.getKernel(k, backend) === undefined);
      if (missing.length > 0) unsupported.push({ layer: path, className, missingKernels: [...new Set(missing)] });
    }
  };
  walk(model.layers!, '');
  const message =
    unsupported.length === 0
      ? ''
      : `${unsupported.length} layer(s) cannot train on the '${backend}' backend: ` +
        unsupported.map((u) => `${u.layer} (${u.className}: no ${u.missingKernels.join(', ')})`).join('; ') +
        `. Train on another backend (cpu, tensorflow or webgpu), or replace those layers.`;
  return { backend, supported: unsupported.length === 0, unsupported, unchecked: [...unchecked].sort(), message };
}
