import * as tfl from '@tensorflow/tfjs-layers';
import { checkInt } from './errors';
import { type InitializerSpec, type RegularizerSpec, createInitializer, createRegularizer } from './initializers';
import { type Activation, type OutputActivation, BATCH_NORM_MOMENTUM, checkActivation, seedFor } from './recurrent';
import { ModelOptionError } from './errors';

export interface MlpOptions {
  /** Input features. */
  readonly inputs: number;
  /** Hidden layers. Default 3. */
  readonly depth?: number;
  /** Units per hidden layer. Default 32. */
  readonly width?: number;
  /** Hidden activation. Default 'relu'. */
  readonly activation?: Activation;
  /** Hidden kernels. Default glorot-uniform (Keras' default, which is what most users have). */
  readonly kernelInitializer?: InitializerSpec;
  /** Constant every hidden bias starts at. Default 0; a negative one starts ReLU units dead. */
  readonly biasInitializer?: number;
  /** Batch normalization (Ioffe & Szegedy 2015) between each hidden dense layer and its activation. Default false. */
  readonly batchNorm?: boolean;
  /** L1/L2 penalty on every kernel. */
  readonly regularizer?: RegularizerSpec;
  /** Output units. Default 1. */
  readonly outputs?: number;
  /** Default 'linear'. */
  readonly outputActivation?: OutputActivation;
  /** Seeds every initializer: the same options give identical weights. Default 1. */
  readonly seed?: number;
}

/**
 * A deep fully connected network, seeded. Depth, activation and initializer scale decide whether the gradient's norm
 * shrinks or grows by a constant factor per layer (Glorot & Bengio 2010; He et al. 2015): deep sigmoid nets vanish,
 * deep ReLU nets with too large an init explode, batch normalization keeps each layer's scale near 1.
 * Hidden layers are named `dense_1`…, their activations `act_1`…, so a probe can read each layer's output.
 */
export function buildMlp(options: MlpOptions): tfl.Sequential {
  const where = 'buildMlp';
  const inputs = checkInt(where, 'inputs', options.inputs, 1);
  const depth = checkInt(where, 'depth', options.depth ?? 3, 1);
  const width = checkInt(where, 'width', options.width ?? 32, 1);
  const outputs = checkInt(where, 'outputs', options.outputs ?? 1, 1);
  const seed = checkInt(where, 'seed', options.seed ?? 1, 0);
  const activation = checkActivation(where, options.activation ?? 'relu');
  const bias = options.biasInitializer ?? 0;
  if (typeof bias !== 'number' || !Number.isFinite(bias)) {
    throw new ModelOptionError(`${where}: biasInitializer must be a finite number, got ${JSON.stringify(bias)}.`);
  }
  const kernelSpec: InitializerSpec = options.kernelInitializer ?? { kind: 'glorot-uniform' };
  const model = tfl.sequential({ name: 'mlp_model' });
  for (let i = 0; i < depth; i++) {
    model.add(
      tfl.layers.dense({
        name: `dense_${i + 1}`,
        units: width,
        activation: 'linear',
        kernelInitializer: createInitializer(kernelSpec, seedFor(seed, i, 0)),
        biasInitializer: tfl.initializers.constant({ value: bias }),
        kernelRegularizer: createRegularizer(options.regularizer),
        ...(i === 0 ? { inputShape: [inputs] } : {}),
      }),
    );
    if (options.batchNorm) model.add(tfl.layers.batchNormalization({ name: `batch_norm_${i + 1}`, momentum: BATCH_NORM_MOMENTUM }));
    model.add(tfl.layers.activation({ name: `act_${i + 1}`, activation }));
  }
  model.add(
    tfl.layers.dense({
      name: 'head',
      units: outputs,
      activation: options.outputActivation ?? 'linear',
      kernelInitializer: createInitializer({ kind: 'glorot-uniform' }, seedFor(seed, depth, 0)),
      kernelRegularizer: createRegularizer(options.regularizer),
    }),
  );
  return model;
}
