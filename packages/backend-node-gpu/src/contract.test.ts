// The shared backend contract (tooling/vitest/src/backend-contract.ts) on every backend this adapter can activate.
// The real tfjs-node(-gpu), where installed, runs it in contract-installed.test.ts.
import { gradientStats } from '@gradguard/core';
import { clipByGlobalNorm } from '@gradguard/mitigations';
import { testBackendContract } from '@gradguard/vitest-config/backend-contract-vitest';
import { afterAll, expect } from 'vitest';
import { WORKING_TFJS_NODE, fakeModules } from './fake-packages.fixture';
import { useNodeBackend } from './use-node-backend';

const deps = { gradientStats, clipByGlobalNorm };

testBackendContract({ name: 'cpu', backend: 'cpu', deps, activate: () => useNodeBackend({ backend: 'cpu' }) });
testBackendContract({ name: 'wasm', backend: 'wasm', deps, activate: () => useNodeBackend({ backend: 'wasm' }) });

// The 'tensorflow' path end to end (load, register, activate) through a stand-in tfjs-node running the cpu kernels.
const mods = fakeModules();
mods.link('@tensorflow/tfjs');
mods.link('@tensorflow/tfjs-backend-cpu');
mods.add('@tensorflow/tfjs-node', { 'index.js': WORKING_TFJS_NODE });
afterAll(() => mods.remove());
testBackendContract({
  name: 'tensorflow (stand-in tfjs-node)',
  backend: 'tensorflow',
  deps,
  activate: async () => {
    const report = await useNodeBackend({
      backend: 'tensorflow',
      loader: mods.loader(),
      probeGpu: () => Promise.resolve({ visible: false, reason: 'test' }),
    });
    expect(report.packageName).toBe('@tensorflow/tfjs-node');
  },
});
