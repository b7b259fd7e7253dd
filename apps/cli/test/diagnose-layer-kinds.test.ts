import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradguard } from './cli';

// A hand-written log: an LSTM layer whose gradient is 99.8 % exact zeros from step 2 (what a learning rate far too
// high does to an encoder–decoder). The header names the layer's class, so diagnose calls it saturation.
function log(withModel: boolean): string {
  const header = {
    type: 'header', version: 1, runId: 'r', name: 'lstm-saturated', startedAt: '2026-01-01T00:00:00Z',
    ...(withModel
      ? { model: { name: 'm', params: 8716, layers: [{ name: 'lstm', className: 'LSTM', params: 8320, activation: 'tanh' }, { name: 'out', className: 'Dense', params: 396, activation: 'softmax' }] } }
      : {}),
  };
  const steps = Array.from({ length: 14 }, (_, step) => ({
    type: 'step', step, time: step, loss: 2.4, globalNorm: 0.5, preClipNorm: 0.5, postClipNorm: 0.5, scale: 1, skipped: false,
    learningRate: null, maxAbs: 0.1, nonFinite: 0,
    layers: [
      { layer: 'lstm', size: 8320, norm: 0.3, maxAbs: 0.1, nonFinite: 0, zeros: step < 2 ? 0 : 8300 },
      { layer: 'out', size: 396, norm: 0.4, maxAbs: 0.1, nonFinite: 0, zeros: 0 },
    ],
  }));
  return [header, ...steps].map((r) => JSON.stringify(r)).join('\n') + '\n';
}

describe('gradguard diagnose reads layer kinds from the log header', () => {
  it('zeros in an LSTM are saturation (step 6, patience 5); without the header the old dying-relu verdict (step 11)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-kinds-'));
    const named = join(dir, 'named.jsonl');
    const bare = join(dir, 'bare.jsonl');
    writeFileSync(named, log(true));
    writeFileSync(bare, log(false));
    const a = JSON.parse(gradguard(['diagnose', named, '--json']).stdout);
    expect(a.diagnoses.map((d: { step: number; problem: string; layer: string }) => `${d.step} ${d.problem} ${d.layer}`)).toEqual(['6 saturation lstm']);
    const b = JSON.parse(gradguard(['diagnose', bare, '--json']).stdout);
    expect(b.diagnoses.map((d: { step: number; problem: string; layer: string }) => `${d.step} ${d.problem} ${d.layer}`)).toEqual(['11 dying-relu lstm']);
  });
});
