import type { LayerStatistics, StepStatistics } from '../run-log/statistics';

/** Which layer an exploding-gradient episode starts in, with the numbers behind the choice. */
export interface ExplosionAttribution {
  /** The layer that crossed the bound earliest in the window (largest norm on ties). */
  readonly firstLayer?: string;
  readonly firstLayerStep?: number;
  readonly firstLayerNorm?: number;
  /** The layer whose gradient norm grew by the largest factor over the window. */
  readonly fastestLayer?: string;
  /** Its growth factor: latest finite norm / norm at the start of the window. */
  readonly fastestGrowth?: number;
  /** Steps the growth factor spans. */
  readonly fastestGrowthSteps?: number;
}

/** Keeps the last `window` steps of per-layer gradient norms to say where an explosion started. */
export interface LayerTracker {
  observe(step: StepStatistics): void;
  attribute(bound: number): ExplosionAttribution;
  /**
   * The attribution of the window as it is now, computed only when called (and once): for findings whose message a
   * monitor reads only at an onset or an escalation, so a long streak does not pay for it on every step.
   */
  attributeLater(bound: number): () => ExplosionAttribution;
  reset(): void;
}

/**
 * Layer attribution for gradient diagnoses: among the last `window` steps, the layer whose norm crossed `bound`
 * earliest (staying above it since), and the layer whose norm grew by the largest factor. Pure bookkeeping over
 * numbers; non-finite norms are skipped (the non-finite rule blames those).
 */
export function createLayerTracker(window = 20): LayerTracker {
  // A ring of numbers, not the steps' LayerStatistics objects: holding those for `window` steps kept every step's
  // layer objects alive through several garbage collections (promoted, then collected as old objects), where a ring
  // of reused Float64Arrays keeps nothing of the step. The layer names are shared between entries while they repeat.
  const ring: Entry[] = [];
  let head = 0; // index of the oldest entry once the ring is full
  let names: string[] = [];
  const sameNames = (layers: readonly LayerStatistics[]): boolean => {
    if (layers.length !== names.length) return false;
    for (let i = 0; i < layers.length; i++) if (layers[i]!.layer !== names[i]) return false;
    return true;
  };
  const ordered = (): Entry[] => (ring.length < window ? ring : [...ring.slice(head), ...ring.slice(0, head)]);
  return {
    observe(s) {
      if (!sameNames(s.layers)) names = s.layers.map((l) => l.layer);
      let e: Entry;
      if (ring.length < window) {
        e = { step: s.step, names, norms: new Float64Array(names.length) };
        ring.push(e);
      } else {
        e = ring[head]!;
        head = (head + 1) % window;
        e.step = s.step;
        e.names = names;
        if (e.norms.length !== names.length) e.norms = new Float64Array(names.length);
      }
      for (let i = 0; i < s.layers.length; i++) e.norms[i] = s.layers[i]!.norm;
    },
    attribute(bound) {
      return attributeWindow(ordered(), bound);
    },
    attributeLater(bound) {
      // A copy of the numbers now: the ring's entries are reused by later steps.
      const snapshot = ordered().map((e) => ({ step: e.step, names: e.names, norms: e.norms.slice() }));
      let result: ExplosionAttribution | undefined;
      return () => (result ??= attributeWindow(snapshot, bound));
    },
    reset() {
      ring.length = 0;
      head = 0;
    },
  };
}

interface Entry {
  step: number;
  names: readonly string[];
  norms: Float64Array;
}

/** The attribution over a window of steps (oldest first). */
function attributeWindow(history: readonly Entry[], bound: number): ExplosionAttribution {
  const first = new Map<string, { step: number; norm: number }>();
  const start = new Map<string, { step: number; norm: number }>();
  const latest = new Map<string, { step: number; norm: number }>();
  for (const h of history) {
    for (let i = 0; i < h.names.length; i++) {
      const layer = h.names[i]!;
      const norm = h.norms[i]!;
      if (!Number.isFinite(norm)) continue;
      if (!start.has(layer)) start.set(layer, { step: h.step, norm });
      latest.set(layer, { step: h.step, norm });
      if (norm > bound) {
        if (!first.has(layer)) first.set(layer, { step: h.step, norm });
      } else {
        first.delete(layer); // dipped below: its crossing, if any, comes later
      }
    }
  }
  let firstLayer: [string, { step: number; norm: number }] | undefined;
  for (const [layer, f] of first) {
    const best = firstLayer?.[1];
    if (!best || f.step < best.step || (f.step === best.step && latest.get(layer)!.norm > latest.get(firstLayer![0])!.norm)) {
      firstLayer = [layer, f];
    }
  }
  let fastest: { layer: string; growth: number; steps: number } | undefined;
  for (const [layer, s0] of start) {
    const now = latest.get(layer)!;
    if (!(s0.norm > 0) || now.step === s0.step) continue;
    const growth = now.norm / s0.norm;
    if (!fastest || growth > fastest.growth) fastest = { layer, growth, steps: now.step - s0.step };
  }
  return {
    ...(firstLayer
      ? { firstLayer: firstLayer[0], firstLayerStep: firstLayer[1].step, firstLayerNorm: firstLayer[1].norm }
      : {}),
    ...(fastest ? { fastestLayer: fastest.layer, fastestGrowth: fastest.growth, fastestGrowthSteps: fastest.steps } : {}),
  };
}

/** The attribution as evidence fields and a sentence for a message. */
export function describeAttribution(a: ExplosionAttribution): {
  evidence: Record<string, number | string>;
  text: string;
} {
  const evidence: Record<string, number | string> = {};
  const parts: string[] = [];
  if (a.firstLayer !== undefined) {
    evidence.firstLayer = a.firstLayer;
    evidence.firstLayerStep = a.firstLayerStep!;
    evidence.firstLayerNorm = a.firstLayerNorm!;
    parts.push(`layer "${a.firstLayer}" crossed the bound first (step ${a.firstLayerStep})`);
  }
  if (a.fastestLayer !== undefined && a.fastestGrowth! > 1) {
    evidence.fastestLayer = a.fastestLayer;
    evidence.fastestGrowth = a.fastestGrowth!;
    evidence.fastestGrowthSteps = a.fastestGrowthSteps!;
    parts.push(`"${a.fastestLayer}" grew fastest (×${fmtGrowth(a.fastestGrowth!)} in ${a.fastestGrowthSteps} steps)`);
  }
  return { evidence, text: parts.length > 0 ? ` Where it starts: ${parts.join('; ')}.` : '' };
}

function fmtGrowth(x: number): string {
  return x >= 1e4 ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}
