import { describe, expect, it } from 'vitest';
import type { StepStatistics, VariableStatistics } from '../run-log/statistics';
import { makeStep } from '../test/streams';
import { detectClipStarvation } from './detect-clip-starvation';

// An embedding whose gradient norm is 30 next to nine tensors of norm 1: ‖g‖² = 900 + 9 = 909, its share 900 / 909
// = 0.990; clipped to global norm 1 the coefficient is 1 / √909 = 0.0332, and every other tensor moves 3 % of its step.
function clipped(i: number, embedding = 30, threshold = 1): StepStatistics {
  const names = ['embedding/embeddings', ...Array.from({ length: 9 }, (_, k) => `dense_${k}/kernel`)];
  const variables: VariableStatistics[] = names.map((name, k) => ({
    name,
    layer: name.split('/')[0]!,
    size: 100,
    norm: k === 0 ? embedding : 1,
    maxAbs: 1,
    nonFinite: 0,
    zeros: 0,
  }));
  const base = makeStep(i, variables.map((v) => ({ layer: v.layer!, norm: v.norm })));
  const pre = Math.sqrt(embedding ** 2 + 9);
  const post = Math.min(pre, threshold);
  return { ...base, variables, preClipNorm: pre, postClipNorm: post, scale: post / pre };
}

describe('detectClipStarvation (Megatron-LM #5394)', () => {
  it('one tensor with 99 % of ‖g‖² under a clip coefficient of 0.033 for 20 steps: named, at step 19', () => {
    const d = detectClipStarvation();
    for (let i = 0; i < 19; i++) expect(d.observe(clipped(i))).toEqual([]);
    const [f] = d.observe(clipped(19));
    expect(f).toMatchObject({ problem: 'clip-starvation', severity: 'warning', layer: 'embedding', evidence: { tensor: 'embedding/embeddings', streak: 20, since: 0 } });
    expect(f!.evidence.share).toBeCloseTo(900 / 909, 12);
    expect(f!.evidence.scale).toBeCloseTo(1 / Math.sqrt(909), 12);
    expect(f!.message).toContain('while tensor "embedding/embeddings" (layer "embedding") holds 99.01 % of the squared gradient norm');
    expect(f!.advice[0]!.remedy).toBe('clipByNorm');
  });

  it('quiet when the clip is mild (coefficient 0.5), when no tensor dominates, or when a step breaks the run', () => {
    const mild = detectClipStarvation();
    // embedding 30 clipped at threshold 15.2: coefficient 15.2 / 30.15 = 0.504 > 0.1.
    for (let i = 0; i < 40; i++) expect(mild.observe(clipped(i, 30, 15.2))).toEqual([]);
    const spread = detectClipStarvation();
    // embedding 2.5: share 6.25 / 15.25 = 0.41 < 0.8, though the clip at 0.3 gives coefficient 0.077.
    for (let i = 0; i < 40; i++) expect(spread.observe(clipped(i, 2.5, 0.3))).toEqual([]);
    const broken = detectClipStarvation();
    for (let i = 0; i < 19; i++) broken.observe(clipped(i));
    broken.observe({ ...clipped(19), skipped: true }); // a skipped step restarts the count
    for (let i = 20; i < 39; i++) expect(broken.observe(clipped(i))).toEqual([]);
    expect(broken.observe(clipped(39))[0]!.evidence.since).toBe(20);
  });

  it('one noisy step at 79 % inside a run of 99 %s does not restart it; a run averaging under 80 % is not reported', () => {
    const d = detectClipStarvation();
    // embedding 5.82: share 33.9 / 42.9 = 0.790 on step 10; every other step 0.990 → mean 0.980 at step 19.
    for (let i = 0; i < 19; i++) expect(d.observe(clipped(i, i === 10 ? 5.82 : 30, i === 10 ? 0.3 : 1))).toEqual([]);
    const [f] = d.observe(clipped(19));
    expect(f!.evidence.minShare).toBeCloseTo(5.82 ** 2 / (5.82 ** 2 + 9), 10);
    expect(f!.evidence.meanShare).toBeCloseTo((19 * 900 / 909 + 5.82 ** 2 / (5.82 ** 2 + 9)) / 20, 10);
    const weak = detectClipStarvation();
    // embedding 4: share 16 / 25 = 0.64 > 0.5 every step, scale 0.3 / 5 = 0.06: a run, but its mean is under 0.8.
    for (let i = 0; i < 40; i++) expect(weak.observe(clipped(i, 4, 0.3))).toEqual([]);
  });

  it('falls back to layers when no variables were measured (a step read from a run log)', () => {
    const d = detectClipStarvation({ patience: 2 });
    const fromLog = (i: number) => ({ ...clipped(i), variables: [] });
    d.observe(fromLog(0));
    expect(d.observe(fromLog(1))[0]).toMatchObject({ layer: 'embedding', evidence: { tensor: 'embedding' } });
    expect(() => detectClipStarvation({ share: 0 })).toThrow('share must be a number > 0 <= 1, got 0');
  });
});
