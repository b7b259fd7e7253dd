import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  CONTRACT_MAX_NORM,
  CONTRACT_STEPS,
  CONTRACT_TOLERANCE,
  type ContractDeps,
  type ContractResult,
  compareContractResults,
  runBackendContract,
} from './backend-contract';

export * from './backend-contract';

/** Asserts the invariants every run must meet on its own: finite numbers, clipping acts, nothing leaks. */
export function expectContractInvariants(result: ContractResult): void {
  expect(result.losses).toHaveLength(CONTRACT_STEPS);
  for (let s = 0; s < CONTRACT_STEPS; s++) {
    expect(Number.isFinite(result.losses[s]!), `loss at step ${s}`).toBe(true);
    // The contract model's pre-clip norm is well above the bound, so clipByGlobalNorm must scale it to exactly the bound.
    expect(result.globalNorms[s]!, `pre-clip norm at step ${s}`).toBeGreaterThan(CONTRACT_MAX_NORM);
    expect(Math.abs(result.clippedNorms[s]! - CONTRACT_MAX_NORM)).toBeLessThan(1e-5);
    // The global norm is the L2 norm of the per-variable norms (Pascanu et al. 2013).
    const fromVars = Math.sqrt(result.variableNorms[s]!.reduce((a, n) => a + n * n, 0));
    expect(Math.abs(fromVars - result.globalNorms[s]!)).toBeLessThan(1e-5 * (1 + fromVars));
  }
  expect(result.losses.at(-1)!, 'SGD on clipped gradients lowers the loss').toBeLessThan(result.losses[0]!);
  expect(result.stepTensorGrowth, 'tensors per step').toEqual(Array(CONTRACT_STEPS).fill(0));
  expect(result.leakedTensors, 'tensors left after the run').toBe(0);
}

export interface BackendContractOptions {
  /** Test-suite title. */
  readonly name: string;
  /** The tfjs backend name the adapter must activate. */
  readonly backend: string;
  /** Activates the backend under test (the adapter's one call). */
  readonly activate: () => Promise<unknown>;
  readonly deps: Omit<ContractDeps, 'tf'>;
  readonly tolerance?: number;
}

/**
 * The shared suite every backend adapter runs: the contract step on cpu as the reference, then on the adapter's
 * backend, compared number by number within the tolerance, and leak-free on both.
 */
export function testBackendContract(options: BackendContractOptions): void {
  describe(`backend contract: ${options.name}`, () => {
    it(`matches the cpu backend within ${options.tolerance ?? CONTRACT_TOLERANCE} and leaks no tensor`, async () => {
      const deps = { tf, ...options.deps };
      await tf.setBackend('cpu');
      const reference = await runBackendContract(deps, 'cpu');
      expectContractInvariants(reference);
      await options.activate();
      expect(tf.getBackend()).toBe(options.backend);
      const actual = await runBackendContract(deps, options.backend);
      expectContractInvariants(actual);
      const cmp = compareContractResults(actual, reference, options.tolerance ?? CONTRACT_TOLERANCE);
      expect(cmp.compared, 'numbers compared').toBeGreaterThan(50);
      expect(cmp.mismatches).toEqual([]);
      console.info(`backend contract ${options.name}: ${cmp.compared} numbers, max deviation ${cmp.maxDeviation.toExponential(2)}`);
      await tf.setBackend('cpu');
    });
  });
}
