import { describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import { detectNonFinite } from './detectors/detect-non-finite';
import { detectNormAboveBound } from './detectors/detect-norm-above-bound';
import type { Detector } from './detector';
import type { Severity } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

/** A hand-made step: two layers, `rnn` and `out`, with the given norms. */
export function step(i: number, rnn: number, out = 0.1, extra: Partial<StepStatistics> = {}): StepStatistics {
  const norm = Math.sqrt(rnn * rnn + out * out);
  const nonFinite = Number.isFinite(rnn) ? 0 : 5;
  return {
    step: i,
    variables: [],
    layers: [
      { layer: 'rnn', size: 10, norm: rnn, maxAbs: rnn, nonFinite, zeros: 0 },
      { layer: 'out', size: 5, norm: out, maxAbs: out, nonFinite: 0, zeros: 0 },
    ],
    globalNorm: norm,
    preClipNorm: norm,
    postClipNorm: norm,
    scale: 1,
    skipped: false,
    maxAbs: Math.max(rnn, out),
    nonFinite,
    size: 15,
    loss: 1,
    ...extra,
  };
}

describe('detectNonFinite', () => {
  it('fires critical on NaN gradients and names the first layer that has them', () => {
    const d = detectNonFinite();
    expect(d.observe(step(0, 0.5))).toEqual([]);
    const [f] = d.observe(step(1, Number.NaN));
    expect(f).toMatchObject({ problem: 'non-finite', severity: 'critical', layer: 'rnn' });
    expect(f!.evidence).toMatchObject({ where: 'gradients', nonFinite: 5, size: 15 });
    expect(f!.advice.map((a) => a.remedy)).toContain('skipNonFinite');
  });

  it('fires on a non-finite loss even when the gradients are finite', () => {
    const [f] = detectNonFinite().observe(step(3, 0.5, 0.1, { loss: Number.POSITIVE_INFINITY }));
    expect(f).toMatchObject({ problem: 'non-finite', evidence: { where: 'loss', loss: Number.POSITIVE_INFINITY } });
  });
});

describe('detectNormAboveBound', () => {
  it('waits for `patience` consecutive steps above the bound and blames the largest layer', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 3, growthFactor: 1 }); // the bare thresholds: no growth needed
    expect(d.observe(step(0, 15))).toEqual([]);
    expect(d.observe(step(1, 15))).toEqual([]);
    const [f] = d.observe(step(2, 17));
    expect(f).toMatchObject({ problem: 'exploding-gradient', severity: 'warning', layer: 'rnn' });
    expect(f!.evidence).toMatchObject({ streak: 3, streakStart: 0, bound: 1, firstLayer: 'rnn', firstLayerStep: 0 });
    expect(f!.evidence.peak).toBeCloseTo(Math.sqrt(289.01), 6);
    // Above the bound but under warningFactor × bound: what clipping at 1 would clip, reported as info only.
    const calm = detectNormAboveBound({ bound: 1, patience: 3 });
    for (let i = 0; i < 2; i++) calm.observe(step(i, 5));
    expect(calm.observe(step(2, 7))[0]!.severity).toBe('info');
  });

  it('restarts the streak when the norm dips below the bound, and ignores NaN norms', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 2 });
    d.observe(step(0, 5));
    expect(d.observe(step(1, 0.5))).toEqual([]);
    expect(d.observe(step(2, Number.NaN))).toEqual([]);
    expect(d.observe(step(3, 5))).toEqual([]);
    expect(d.observe(step(4, 5))).toHaveLength(1);
  });

  it('is critical when the streak reaches criticalFactor × bound', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 1, criticalFactor: 100 });
    expect(d.observe(step(0, 101))[0]!.severity).toBe('critical');
  });

  it('stays silent on a constant healthy stream and a single step', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 1 });
    for (let i = 0; i < 100; i++) expect(d.observe(step(i, 0.9))).toEqual([]);
  });

  it('rejects bad options with the value and the rule', () => {
    expect(() => detectNormAboveBound({ bound: 0 })).toThrow('bound must be a number > 0, got 0');
    expect(() => detectNormAboveBound({ patience: 2.5 })).toThrow('patience must be an integer >= 1, got 2.5');
  });
});

describe('createMonitor', () => {
  it('reports onset once, escalation when severity rises, and recovery after calm steps', () => {
    const m = createMonitor({ detectors: [detectNormAboveBound({ bound: 1, patience: 2, criticalFactor: 100 })], recoveryPatience: 3 });
    const all: unknown[] = [];
    const norms = [5, 5, 5, 500, 500, 0.5, 0.5, 0.5, 0.5, 0.5];
    norms.forEach((n, i) => all.push(...m.observe(step(i, n))));
    expect(m.diagnoses.map((d) => [d.phase, d.step, d.severity])).toEqual([
      ['onset', 1, 'info'],
      ['escalation', 3, 'critical'],
      ['recovery', 7, 'info'],
    ]);
    expect(all).toHaveLength(3);
    expect(m.active).toEqual([]);
    expect(m.diagnoses[2]!.evidence).toMatchObject({ onsetStep: 1, lastSeen: 4 });
  });

  it('keeps every diagnosis oldest first, notifies subscribers and resets', () => {
    const m = createMonitor();
    const seen: string[] = [];
    const off = m.subscribe((d) => seen.push(d.problem));
    for (let i = 0; i < 12; i++) m.observe(step(i, 3));
    m.observe(step(12, Number.NaN));
    expect(m.diagnoses.map((d) => d.problem)).toEqual(['exploding-gradient', 'non-finite']);
    expect(m.diagnoses[0]!.step).toBe(9); // default patience 10
    expect(seen).toEqual(['exploding-gradient', 'non-finite']);
    expect(m.active).toHaveLength(2);
    off();
    m.reset();
    expect(m.diagnoses).toEqual([]);
    expect(m.lastStep).toBe(-1);
  });
});

describe('detectNormAboveBound, immediate explosions', () => {
  it('reports a norm over criticalFactor × bound at once, before patience runs out', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 10, criticalFactor: 1000 });
    const [f] = d.observe(step(0, 5.5e8));
    expect(f).toMatchObject({ problem: 'exploding-gradient', severity: 'critical', layer: 'rnn', evidence: { streak: 1 } });
    expect(f!.message).toContain('is 5.50e+8, over 1000× the bound 1');
    expect(d.observe(step(1, 50))).toEqual([]); // back under the critical level, streak 2 < patience
  });

  it('on a clipped run, says the update was bounded and advises the cause, not clipping again', () => {
    const d = detectNormAboveBound({ bound: 1, patience: 10, criticalFactor: 1000 });
    const [f] = d.observe(step(0, 5.5e8, 0.1, { postClipNorm: 1, scale: 1 / 5.5e8 }));
    expect(f!.message).toContain('The update was clipped to a norm of 1, so the weights are protected; the cause remains.');
    expect(f!.evidence.clipped).toBe(true);
    const remedies = f!.advice.map((a) => a.remedy);
    expect(remedies).not.toContain('clipByGlobalNorm');
    expect(remedies[0]).toBe('lowerLearningRate');
    const [u] = detectNormAboveBound({ bound: 1 }).observe(step(0, 5.5e8));
    expect(u!.advice[0]!.remedy).toBe('clipByGlobalNorm');
    expect(u!.evidence.clipped).toBe(false);
  });
});

/** A detector that finds one problem at the given steps, with the given severity (default info). */
function scripted(at: Readonly<Record<number, Severity>> | readonly number[]): Detector {
  const plan: Record<number, Severity> = Array.isArray(at) ? Object.fromEntries(at.map((i) => [i, 'info'])) : { ...at };
  return {
    name: 'scripted',
    observe: (s) =>
      plan[s.step] === undefined
        ? []
        : [{ problem: 'gradient-spike', severity: plan[s.step]!, message: `spike at ${s.step}`, evidence: {}, advice: [] }],
    reset: () => undefined,
  };
}

const phases = (m: ReturnType<typeof createMonitor>): string[] => m.diagnoses.map((d) => `${d.phase} ${d.step} ${d.severity}`);

describe('createMonitor hysteresis: no flapping', () => {
  it('reports recovery only after recoveryPatience measured steps without a finding (default 20)', () => {
    const m = createMonitor({ detectors: [scripted([5])] });
    for (let i = 0; i <= 40; i++) m.observe(step(i, 0.5));
    expect(phases(m)).toEqual(['onset 5 info', 'recovery 25 info']);
    expect(m.diagnoses[1]!.evidence).toMatchObject({ onsetStep: 5, lastSeen: 5, quietSteps: 20 });
  });

  it('counts measured steps, not step numbers: with stats every 10th step the window is 10× as many steps', () => {
    const m = createMonitor({ detectors: [scripted([50])], recoveryPatience: 3 });
    for (let i = 0; i <= 200; i += 10) m.observe(step(i, 0.5));
    expect(phases(m)).toEqual(['onset 50 info', 'recovery 80 info']);
  });

  it('a return within the window is the same episode, not a new onset', () => {
    const m = createMonitor({ detectors: [scripted([0, 15, 30, 44])], recoveryPatience: 20 });
    for (let i = 0; i <= 200; i++) m.observe(step(i, 0.5));
    // Quiet spells of 14, 14, 13 steps: the window grows to 28 after the first; recovery 28 steps after step 44.
    expect(phases(m)).toEqual(['onset 0 info', 'recovery 72 info']);
    expect(m.diagnoses[1]!.evidence).toMatchObject({ onsetStep: 0, lastSeen: 44, steps: 45, quietSteps: 28 });
  });

  it('a problem that keeps coming back is held to twice its longest quiet spell, up to maxRecoveryPatience', () => {
    // Comes back every 30 steps: the first return is a new episode (30 > 20), after that the window is 58 and the
    // run is one episode until it stops.
    const every30 = Array.from({ length: 30 }, (_, k) => 30 * k);
    const m = createMonitor({ detectors: [scripted(every30)] });
    for (let i = 0; i <= 1200; i++) m.observe(step(i, 0.5));
    expect(phases(m)).toEqual(['onset 0 info', 'recovery 20 info', 'onset 30 info', 'recovery 928 info']);
    // The same stream without the damping flaps on every return.
    const flapping = createMonitor({ detectors: [scripted(every30)], maxRecoveryPatience: 20 });
    for (let i = 0; i <= 1200; i++) flapping.observe(step(i, 0.5));
    expect(flapping.diagnoses).toHaveLength(60);
    // The ceiling: after a 500-step silence the window would be 1000; it is capped at 40.
    const capped = createMonitor({ detectors: [scripted([0, 500, 501])], maxRecoveryPatience: 40 });
    for (let i = 0; i <= 700; i++) capped.observe(step(i, 0.5));
    expect(phases(capped)).toEqual(['onset 0 info', 'recovery 20 info', 'onset 500 info', 'recovery 541 info']);
  });

  it('reports escalation at once inside a long episode, and a first critical onset at its own step', () => {
    const m = createMonitor({ detectors: [scripted({ 0: 'info', 30: 'info', 60: 'info', 61: 'warning', 62: 'critical', 63: 'info' })] });
    for (let i = 0; i <= 200; i++) m.observe(step(i, 0.5));
    // The return at 30 set the window to 2 × 29 = 58 measured steps.
    expect(phases(m)).toEqual(['onset 0 info', 'recovery 20 info', 'onset 30 info', 'escalation 61 warning', 'escalation 62 critical', 'recovery 121 info']);
    const c = createMonitor({ detectors: [scripted({ 7: 'critical' })], recoveryPatience: 50 });
    const out = [...Array(8).keys()].flatMap((i) => c.observe(step(i, 0.5)));
    expect(out.map((d) => `${d.phase} ${d.step} ${d.severity}`)).toEqual(['onset 7 critical']);
  });

  it('forgets the rhythm on reset', () => {
    const m = createMonitor({ detectors: [scripted([0, 30, 100])] });
    for (let i = 0; i <= 40; i++) m.observe(step(i, 0.5)); // the window is now 58
    m.reset();
    for (let i = 100; i <= 140; i++) m.observe(step(i, 0.5));
    expect(phases(m)).toEqual(['onset 100 info', 'recovery 120 info']);
  });

  it('rejects bad options when created, naming the value', () => {
    expect(() => createMonitor({ recoveryPatiance: 5 } as never)).toThrow(
      'createMonitor: unknown option "recoveryPatiance". Did you mean "recoveryPatience"?',
    );
    expect(() => createMonitor({ recoveryPatience: 20, maxRecoveryPatience: 10 })).toThrow(
      'maxRecoveryPatience must be an integer >= 20, got 10',
    );
    expect(() => createMonitor({ detectors: [detectNonFinite] as never })).toThrow('detectors[0] is not a detector');
    expect(() => createMonitor({ detectors: detectNonFinite() as never })).toThrow('detectors must be an array');
  });
});
