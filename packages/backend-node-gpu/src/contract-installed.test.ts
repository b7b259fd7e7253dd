// The contract on the tfjs-node(-gpu) installed on this machine, through the default loader and GPU probe. Where
// neither is installed (this repository's CI), the same call must fail with the typed error naming both packages.
// On a CUDA machine: `npm install @tensorflow/tfjs-node-gpu@4.22.0` in this package, then
// `npx vitest run src/contract-installed.test.ts` (see README).
import * as tf from '@tensorflow/tfjs';
import { gradientStats } from '@gradguard/core';
import { clipByGlobalNorm } from '@gradguard/mitigations';
import { testBackendContract } from '@gradguard/vitest-config/backend-contract-vitest';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './errors';
import { createModuleLoader } from './module-loader';
import { useNodeBackend } from './use-node-backend';

const loader = createModuleLoader();
const present: string[] = [];
for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
  const dirFound = (await loader.load(name)).status !== 'not-installed';
  if (dirFound) present.push(name);
}

if (present.length > 0) {
  testBackendContract({
    name: `tensorflow (${present.join(', ')} installed)`,
    backend: 'tensorflow',
    deps: { gradientStats, clipByGlobalNorm },
    activate: async () => {
      const report = await useNodeBackend({ backend: 'tensorflow' });
      console.info(`useNodeBackend: ${report.summary}`);
      expect(report.core?.single).toBe(true);
    },
  });
} else {
  describe('tensorflow backend where tfjs-node is not installed', () => {
    it('fails with BackendUnavailableError naming both packages and the fix', async () => {
      const err = await useNodeBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as BackendUnavailableError).attempts.map((a) => a.packageName)).toEqual([
        '@tensorflow/tfjs-node-gpu',
        '@tensorflow/tfjs-node',
      ]);
      expect((err as Error).message).toContain('@tensorflow/tfjs-node@4.22.0 (CPU) or @tensorflow/tfjs-node-gpu@4.22.0');
      expect(tf.getBackend()).not.toBe('tensorflow');
    });
  });
}
