// Test-only: global-norm clipping as an optimizer wrapper (Pascanu et al. 2013), so this package's tests can show the
// Pascanu result without importing @gradguard/mitigations (which sits above it). g ← g · c / max(‖g‖, c).
import * as tf from '@tensorflow/tfjs-core';

export class ClipOptimizer extends tf.Optimizer {
  static className = 'ClipOptimizer';

  constructor(
    private readonly inner: tf.Optimizer,
    private readonly maxNorm: number,
  ) {
    super();
  }

  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.inner.computeGradients(f, varList);
    this.applyGradients(grads);
    tf.dispose(grads);
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const map: tf.NamedTensorMap = Array.isArray(grads) ? Object.fromEntries(grads.map((g) => [g.name, g.tensor])) : grads;
    const clipped = tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(Object.values(map).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.div(this.maxNorm, tf.maximum(norm, this.maxNorm));
      return Object.fromEntries(Object.entries(map).map(([k, g]) => [k, tf.mul(g, scale)]));
    });
    this.inner.applyGradients(clipped);
    tf.dispose(Object.values(clipped));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { maxNorm: this.maxNorm };
  }

  override dispose(): void {
    this.inner.dispose();
  }
}
