import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from './scenarios';
import { checkVerification, verifyScenario } from './testing/verify';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// The rest of the suite (the quick subset is verified in scenarios.test.ts): each broken scenario shows its problem,
// measured directly, and each healthy one trains to its criterion. Probes run every 25th step (every step while exploding) to keep this cheap.
describe('the full scenario suite (beyond the quick subset)', () => {
  for (const scenario of SCENARIOS.filter((s) => !s.quick)) {
    it(`${scenario.name}: ${scenario.expected}`, async () => {
      const v = await verifyScenario(scenario, scenario.expected === 'exploding-gradient' ? 1 : 25);
      expect(checkVerification(scenario, v)).toEqual([]);
    });
  }
});
