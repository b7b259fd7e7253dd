import type { LayerStatistics } from '../run-log/statistics';

/** The layer whose gradient has been mostly exact zeros longest enough, worst first, and how many such layers. */
export interface ZeroStreakVerdict {
  readonly layer: string;
  readonly fraction: number;
  readonly since: number;
  readonly count: number;
  /** Layers at or past `patience` this step (the worst included). */
  readonly affected: number;
}

export interface ZeroStreaks {
  /** Counts this step's streaks over the layers `judged` accepts; returns the worst layer past `patience`. */
  observe(step: number, layers: readonly LayerStatistics[], judged: (layer: string) => boolean): ZeroStreakVerdict | undefined;
  reset(): void;
}

/**
 * Per-layer streaks of steps on which at least `zeroFraction` of the gradient entries were exactly zero (layers with
 * fewer than `minSize` entries ignored): the bookkeeping shared by the dead-ReLU and saturation rules.
 */
export function createZeroStreaks(zeroFraction: number, patience: number, minSize: number): ZeroStreaks {
  const streaks = new Map<string, { since: number; count: number }>();
  return {
    observe(step, layers, judged) {
      let worst: { layer: string; fraction: number } | undefined;
      for (const l of layers) {
        const fraction = l.size > 0 ? l.zeros / l.size : 0;
        if (judged(l.layer) && l.size >= minSize && fraction >= zeroFraction) {
          const st = streaks.get(l.layer);
          if (st) st.count++;
          else streaks.set(l.layer, { since: step, count: 1 });
          if (streaks.get(l.layer)!.count >= patience && (!worst || fraction > worst.fraction)) worst = { layer: l.layer, fraction };
        } else {
          streaks.delete(l.layer);
        }
      }
      if (!worst) return undefined;
      const st = streaks.get(worst.layer)!;
      const affected = [...streaks.values()].filter((x) => x.count >= patience).length;
      return { ...worst, since: st.since, count: st.count, affected };
    },
    reset() {
      streaks.clear();
    },
  };
}
