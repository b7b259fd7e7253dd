/**
 * Whether training is still paying off, for rules whose numbers alone do not separate a healthy model from a broken
 * one (AUTOTRAINER gates its rules on poor accuracy; the loss is our gate). Keeps an EMA(0.9) of the finite losses
 * over the last `window` + 1 steps that had one.
 */
export interface LossTrend {
  observe(loss: number | undefined): void;
  /**
   * `true` while the smoothed loss has fallen by at least 1 % over the window (over what there is of it, early in a
   * run); `false` when it has not; `undefined` when no loss was ever seen (the rule judges on its numbers alone).
   */
  improving(): boolean | undefined;
  /** The smoothed loss at the start and the end of the window, for messages; undefined before any loss. */
  span(): readonly [number, number] | undefined;
  reset(): void;
}

export function createLossTrend(window: number): LossTrend {
  const smoothed: number[] = [];
  return {
    observe(loss) {
      if (loss === undefined || !Number.isFinite(loss)) return;
      const prev = smoothed[smoothed.length - 1];
      smoothed.push(prev === undefined ? loss : 0.9 * prev + 0.1 * loss);
      if (smoothed.length > window + 1) smoothed.shift();
    },
    improving() {
      if (smoothed.length === 0) return undefined;
      return smoothed[smoothed.length - 1]! < 0.99 * smoothed[0]!;
    },
    span() {
      return smoothed.length === 0 ? undefined : [smoothed[0]!, smoothed[smoothed.length - 1]!];
    },
    reset() {
      smoothed.length = 0;
    },
  };
}
