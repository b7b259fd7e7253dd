import type { LayerStatistics } from '../run-log/statistics';

/** The layer whose units (or gradient entries) have been mostly exact zeros long enough, worst first, and how many such layers. */
export interface ZeroStreakVerdict {
  readonly layer: string;
  readonly fraction: number;
  /** `units`: the fraction is of the layer's units (its bias gradient's zeros); `entries`: of all its gradient entries (no bias). */
  readonly basis: 'units' | 'entries';
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
 * The share of a layer's units that passed no gradient: its bias gradient's exact zeros when it has a bias (each entry
 * is one unit's error summed over the batch), else the share of all its gradient entries. Judging the kernel instead
 * blames the wrong layer: a dead ReLU unit zeroes its own bias entry and kernel column, but also a whole row of the next
 * layer's kernel (its input there is zero) — measured on a blob classifier under SGD momentum 0.99, 76 % of the softmax
 * output's kernel entries were zero from dead units upstream while its bias gradient was not zero at all.
 */
export function unitZeroFraction(l: Pick<LayerStatistics, 'size' | 'zeros' | 'biasSize' | 'biasZeros'>): number {
  if (l.biasSize !== undefined && l.biasSize > 0) return (l.biasZeros ?? 0) / l.biasSize;
  return l.size > 0 ? l.zeros / l.size : 0;
}

/**
 * A layer with a bias counts under the `entries` basis only when at least this share of its units passed no gradient
 * at all: zero kernel entries with every unit's bias gradient alive come from zero *inputs* (dead units upstream), not
 * from the layer's own units.
 */
const MIN_SILENT_UNIT_SHARE = 1 / 3;

/**
 * Per-layer streaks of steps on which at least `zeroFraction` of the layer's units (`units`: `unitZeroFraction`) or of
 * its gradient entries (`entries`) were exactly zero (layers with fewer than `minSize` entries ignored): the
 * bookkeeping shared by the dead-ReLU rule (units: a ReLU unit is dead when it is off for every example, which zeroes
 * its bias entry exactly) and the saturation rule (entries: a tanh or LSTM unit saturated for most examples of a batch
 * zeroes most of its kernel entries while a few examples keep its bias gradient alive — measured on an LSTM
 * encoder–decoder at Adam 1: 80–93 % of entries zero, 51–73 % of bias entries).
 */
export function createZeroStreaks(zeroFraction: number, patience: number, minSize: number, basis: 'units' | 'entries' = 'units'): ZeroStreaks {
  const streaks = new Map<string, { since: number; count: number }>();
  return {
    observe(step, layers, judged) {
      let worst: { layer: string; fraction: number; basis: 'units' | 'entries' } | undefined;
      for (const l of layers) {
        const hasBias = l.biasSize !== undefined && l.biasSize > 0;
        const fraction = basis === 'units' ? unitZeroFraction(l) : l.size > 0 ? l.zeros / l.size : 0;
        const ownUnits = basis === 'units' || !hasBias || (l.biasZeros ?? 0) >= MIN_SILENT_UNIT_SHARE * l.biasSize!;
        if (judged(l.layer) && l.size >= minSize && fraction >= zeroFraction && ownUnits) {
          const st = streaks.get(l.layer);
          if (st) st.count++;
          else streaks.set(l.layer, { since: step, count: 1 });
          if (streaks.get(l.layer)!.count >= patience && (!worst || fraction > worst.fraction)) {
            worst = { layer: l.layer, fraction, basis: basis === 'units' && hasBias ? 'units' : 'entries' };
          }
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

/** "82 % of layer "dense_1"'s units have passed no gradient (...)" or, without a bias, "...'s gradient entries have been exactly zero". */
export function describeZeroShare(v: ZeroStreakVerdict, fraction: string, layerLabel: string): string {
  return v.basis === 'units'
    ? `${fraction} % of ${layerLabel}'s units have passed no gradient (their bias gradient exactly zero over the whole batch) for ${v.count} steps (since step ${v.since})`
    : `${fraction} % of ${layerLabel}'s gradient entries have been exactly zero for ${v.count} steps (since step ${v.since})`;
}
