// Test-only helpers (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { type GradientTransformation, type TransformState, disposeState } from './transformation';

/**
 * Runs `steps` updates of a transformation on fixed random gradients (a matrix and a vector) and asserts that no
 * tensor is left behind by them; `inspect` sees the final state before it and the gradients are disposed.
 */
export async function expectUpdatesLeakNothing<S extends TransformState>(
  transform: GradientTransformation<S>,
  steps = 500,
  inspect?: (state: S) => void,
): Promise<void> {
  const g = { a: tf.randomNormal([8, 8]), b: tf.randomNormal([8]) };
  let state = transform.init(g);
  await expectNoLeak(() => {
    for (let i = 0; i < steps; i++) {
      const [out, next] = transform.update(g, state, g);
      state = next;
      tf.dispose(Object.values(out).filter((t) => !Object.values(g).includes(t)));
    }
  });
  inspect?.(state);
  disposeState(state);
  tf.dispose(Object.values(g));
}
