// Test-only: hand-made statistic streams for detector tests.
import type { LayerStatistics, RecurrentStatistics, StepStatistics } from '../run-log/statistics';

export interface LayerSpec {
  readonly layer: string;
  readonly norm: number;
  readonly size?: number;
  readonly zeros?: number;
  readonly weightNorm?: number;
}

/** One step from per-layer specs; global numbers are pooled from the layers by the same rules as gradientStats. */
export function makeStep(
  step: number,
  layers: readonly LayerSpec[],
  extra: Partial<Omit<StepStatistics, 'layers'>> & { recurrent?: readonly RecurrentStatistics[] } = {},
): StepStatistics {
  const ls: LayerStatistics[] = layers.map((l) => {
    const size = l.size ?? 100;
    return {
      layer: l.layer,
      size,
      norm: l.norm,
      maxAbs: l.norm,
      nonFinite: Number.isFinite(l.norm) ? 0 : size,
      zeros: l.zeros ?? 0,
      ...(l.weightNorm !== undefined ? { weightNorm: l.weightNorm } : {}),
    };
  });
  const sq = ls.reduce((a, l) => a + l.norm * l.norm, 0);
  const w = layers.some((l) => l.weightNorm !== undefined)
    ? Math.sqrt(layers.reduce((a, l) => a + (l.weightNorm ?? 0) ** 2, 0))
    : undefined;
  return {
    step,
    variables: [],
    layers: ls,
    globalNorm: Math.sqrt(sq),
    preClipNorm: Math.sqrt(sq),
    postClipNorm: Math.sqrt(sq),
    scale: 1,
    skipped: false,
    maxAbs: Math.max(...ls.map((l) => l.maxAbs)),
    nonFinite: ls.reduce((a, l) => a + l.nonFinite, 0),
    size: ls.reduce((a, l) => a + l.size, 0),
    ...(w !== undefined ? { weightNorm: w } : {}),
    ...extra,
  };
}

/** Deterministic wobble in [-1, 1] (no Math.random in tests). */
export function wobble(i: number, k = 1): number {
  return Math.sin(1.7 * i * k + 0.3) * Math.cos(0.37 * i);
}

/**
 * A healthy run: three layers with gradient norms 0.2–0.4 wobbling ±20 %, 5 % zeros, weights drifting ±5 %, a loss
 * falling from 1 towards 0.1 with ±5 % noise, and a SimpleRNN kernel of radius 0.95.
 */
export function healthyStep(i: number): StepStatistics {
  return makeStep(
    i,
    [
      { layer: 'in', norm: 0.2 * (1 + 0.2 * wobble(i, 1)), zeros: 5, weightNorm: 5 * (1 + 0.05 * wobble(i, 2)) },
      { layer: 'mid', norm: 0.3 * (1 + 0.2 * wobble(i, 3)), zeros: 5, weightNorm: 6 * (1 + 0.05 * wobble(i, 4)) },
      { layer: 'out', norm: 0.4 * (1 + 0.2 * wobble(i, 5)), zeros: 5, weightNorm: 2 * (1 + 0.05 * wobble(i, 6)) },
    ],
    {
      loss: (0.1 + 0.9 / (1 + i / 30)) * (1 + 0.05 * wobble(i, 7)),
      recurrent: [{ layer: 'mid', className: 'SimpleRNN', gate: 'all', spectralRadius: 0.95, maxSingularValue: 1.1, timeSteps: 20 }],
    },
  );
}

/** The healthy step with every number NaN, as after a non-finite step. */
export function nanStep(i: number): StepStatistics {
  return makeStep(
    i,
    ['in', 'mid', 'out'].map((layer) => ({ layer, norm: Number.NaN, weightNorm: Number.NaN })),
    { loss: Number.NaN },
  );
}
