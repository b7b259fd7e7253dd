import { describe, expect, it } from 'vitest';
import type { Detector } from '../detector';
import { defaultDetectors } from '../monitor';
import { healthyStep, makeStep, nanStep } from '../test/streams';

// Edge cases every rule must handle: a long healthy stream, a single step, NaN in the middle, a constant stream.

const NAN_RULES = new Set(['detectNonFinite', 'detectLossDivergence']);

/**
 * ZClip's z > 2.5 marks about one step in a hundred of a noisy healthy run as a spike: by design those are info
 * (what zClip would clip), never a warning. Every other rule must say nothing at all.
 */
function expectQuiet(name: string, findings: readonly { severity: string }[], where: string): void {
  if (name === 'detectGradientSpike') expect(findings.filter((f) => f.severity !== 'info'), where).toEqual([]);
  else expect(findings, where).toEqual([]);
}

function each(): Detector[] {
  return defaultDetectors();
}

describe('every default detector', () => {
  it.each(each().map((d) => [d.name]))('%s stays silent on 500 healthy steps', (name) => {
    const d = each().find((x) => x.name === name)!;
    let infos = 0;
    for (let i = 0; i < 500; i++) {
      const f = d.observe(healthyStep(i));
      infos += f.length;
      expectQuiet(name, f, `step ${i}`);
    }
    expect(infos).toBeLessThanOrEqual(10); // at most 2 % of steps, and only for the spike rule
  });

  it.each(each().map((d) => [d.name]))('%s handles a single step, healthy or NaN, without findings it cannot justify', (name) => {
    const fresh = (): Detector => each().find((x) => x.name === name)!;
    expect(fresh().observe(healthyStep(0))).toEqual([]);
    const atNaN = fresh().observe(nanStep(0));
    if (NAN_RULES.has(name)) expect(atNaN.map((f) => f.severity)).toContain('critical');
    else expect(atNaN).toEqual([]);
  });

  it.each(each().map((d) => [d.name]))('%s: NaN in the middle neither breaks its state nor echoes afterwards', (name) => {
    const d = each().find((x) => x.name === name)!;
    for (let i = 0; i < 100; i++) d.observe(healthyStep(i));
    const atNaN = d.observe(nanStep(100));
    if (NAN_RULES.has(name)) expect(atNaN.length).toBeGreaterThan(0);
    else expect(atNaN).toEqual([]);
    for (let i = 101; i < 300; i++) expectQuiet(name, d.observe(healthyStep(i)), `step ${i}`);
  });

  it.each(each().map((d) => [d.name]))('%s stays silent on a perfectly constant stream', (name) => {
    const d = each().find((x) => x.name === name)!;
    const layers = [
      { layer: 'in', norm: 0.5, weightNorm: 3 },
      { layer: 'out', norm: 0.5, weightNorm: 3 },
    ];
    for (let i = 0; i < 300; i++) expect(d.observe(makeStep(i, layers, { loss: 0.25 }))).toEqual([]);
  });

  it.each(each().map((d) => [d.name]))('%s forgets its state on reset', (name) => {
    const d = each().find((x) => x.name === name)!;
    for (let i = 0; i < 50; i++) d.observe(healthyStep(i));
    d.reset();
    expect(d.observe(healthyStep(0))).toEqual([]);
  });

  it('cost microseconds per step over numbers (all nine together)', () => {
    const ds = each();
    const steps = Array.from({ length: 2000 }, (_, i) => healthyStep(i));
    const t0 = performance.now();
    for (const s of steps) for (const d of ds) d.observe(s);
    const perStep = ((performance.now() - t0) * 1000) / steps.length;
    // Not a timing test of the machine: a bound three orders of magnitude above what they need, to catch an
    // accidental O(history) scan per step.
    expect(perStep).toBeLessThan(1000);
  });
});
