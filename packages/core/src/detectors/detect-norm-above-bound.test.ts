import { describe, expect, it } from 'vitest';
import { makeStep } from '../test/streams';
import { detectNormAboveBound } from './detect-norm-above-bound';

const at = (i: number, norm: number, loss?: number) =>
  makeStep(i, [{ layer: 'hidden', norm: norm * 0.2 }, { layer: 'out', norm: norm * Math.sqrt(1 - 0.04) }], loss === undefined ? {} : { loss });

describe('detectNormAboveBound: large is not exploding', () => {
  it('the measured 3-blob MLP: norm 23.95 from step 0 for 20 steps is info, falling loss or flat', () => {
    for (const loss of [(i: number) => 1.2 - 0.02 * i, () => 1.2]) {
      const d = detectNormAboveBound();
      const found = [];
      for (let i = 0; i < 20; i++) found.push(...d.observe(at(i, 23.95, loss(i))));
      expect(found.length).toBe(11); // from step 9 (patience 10)
      expect(found.every((f) => f.severity === 'info')).toBe(true);
      expect(found[0]!.evidence.growth).toBeCloseTo(1, 10);
    }
  });

  it('a norm grown ×12 (2 → 24) for 10 steps is a warning on a flat loss or with none, info while the loss falls', () => {
    const grows = (i: number) => (i === 0 ? 2 : 24);
    const flat = detectNormAboveBound();
    for (let i = 0; i < 10; i++) flat.observe(at(i, grows(i), 1.2));
    const [f] = flat.observe(at(10, 24, 1.2));
    expect(f).toMatchObject({ severity: 'warning', evidence: { lossImproving: false } });
    expect(f!.evidence.growth).toBeCloseTo(12, 10);
    const none = detectNormAboveBound();
    for (let i = 0; i < 10; i++) none.observe(at(i, grows(i)));
    expect(none.observe(at(10, 24))[0]!.severity).toBe('warning');
    const learning = detectNormAboveBound();
    for (let i = 0; i < 10; i++) learning.observe(at(i, grows(i), 1.2 - 0.05 * i));
    expect(learning.observe(at(10, 24, 0.7))[0]).toMatchObject({ severity: 'info', evidence: { lossImproving: true } });
  });

  it('critical at once needs growth too: 530 → 1031 (×1.9, the raw-target Adam regression) is not; 100 → 1200 is; a first norm of 1.9e9 is', () => {
    const adam = detectNormAboveBound();
    adam.observe(at(0, 530, 3.3e4));
    expect(adam.observe(at(1, 1031, 3.5e4))).toEqual([]);
    const blowUp = detectNormAboveBound();
    blowUp.observe(at(0, 100));
    const [f] = blowUp.observe(at(1, 1200));
    expect(f).toMatchObject({ severity: 'critical', evidence: { growth: 12 } });
    expect(blowUp.observe(at(2, 50))).toEqual([]); // under 1000 and before patience: nothing new to say
    const rnn = detectNormAboveBound();
    expect(rnn.observe(at(0, 1.9e9))[0]).toMatchObject({ severity: 'critical', evidence: { growth: null } });
    expect(() => detectNormAboveBound({ growthFactor: 0.5 })).toThrow('growthFactor must be a number >= 1, got 0.5');
  });
});

describe('detectNormAboveBound: findings built when read', () => {
  // 40 steps of a growing explosion in a 3-layer model: the rule fires on every step of the streak.
  const steps = Array.from({ length: 40 }, (_, i) => {
    const layers = ['in', 'mid', 'out'].map((layer, j) => ({ layer, size: 10, norm: 2 * 1.3 ** (i + j), maxAbs: 1, nonFinite: 0, zeros: 0 }));
    const norm = Math.hypot(...layers.map((l) => l.norm));
    return { step: i, variables: [], layers, globalNorm: norm, maxAbs: 1, nonFinite: 0, size: 30, preClipNorm: norm, postClipNorm: norm, scale: 1, skipped: false, loss: 1 + i };
  });

  it('a finding read after later steps says what it said at its own step (its numbers and attribution window)', () => {
    const eager = detectNormAboveBound();
    const late = detectNormAboveBound();
    const now: { message: string; layer: string | undefined; evidence: unknown }[] = [];
    const kept: ReturnType<ReturnType<typeof detectNormAboveBound>['observe']>[] = [];
    for (const s of steps) {
      const [f] = eager.observe(s);
      if (f) now.push({ message: f.message, layer: f.layer, evidence: f.evidence });
      kept.push(late.observe(s));
    }
    const readLate = kept.filter((fs) => fs.length > 0).map(([f]) => ({ message: f!.message, layer: f!.layer, evidence: f!.evidence }));
    expect(readLate.length).toBeGreaterThan(25);
    expect(readLate).toEqual(now);
    // The streak's numbers move from step to step, so equal messages are not equal by accident.
    expect(new Set(now.map((x) => x.message)).size).toBe(now.length);
  });
});
