import type { Monitor, StepStatistics } from '@gradguard/core';
import type { GuardOptions } from './guard-types';

/** Measured steps that always measure the weights: the first steps set each layer's baseline for the growth rule. */
const WEIGHTS_FROM_START = 10;

type HistogramBins = Omit<Exclude<GuardOptions['histogram'], boolean | undefined>, 'every'>;

/** What guard measures at a step, from its cadence options (`statsEvery`, `weightsEvery`, `histogram`, `recurrent`). */
export interface MeasureSchedule {
  /** The bins of the per-layer histograms, when they are measured at all. */
  readonly histogramBins: HistogramBins | undefined;
  readonly squarings: number | undefined;
  /** Whether `step` is measured at all (every `statsEvery`-th). */
  measures(step: number): boolean;
  /** On a measured step: which of the costlier measurements it takes too. */
  extras(step: number, last: StepStatistics | undefined, monitor: Monitor | undefined): { weights: boolean; histogram: boolean; spectra: boolean };
}

/** Builds the schedule; the options were checked by `checkGuardArguments`. */
export function createMeasureSchedule(options: GuardOptions): MeasureSchedule {
  const statsEvery = options.statsEvery ?? 1;
  const weightsEvery = options.weightsEvery ?? 10;
  const { every: histogramEvery = 100, ...bins } = options.histogram === true ? {} : options.histogram || { every: 0 };
  const rec = options.recurrent === true ? {} : options.recurrent || undefined;
  return {
    histogramBins: histogramEvery > 0 ? bins : undefined,
    squarings: rec?.squarings,
    measures: (step) => step % statsEvery === 0,
    extras(step, last, monitor) {
      const index = step / statsEvery; // among measured steps
      return {
        weights: weightsDue(index, weightsEvery, last, monitor),
        histogram: histogramEvery > 0 && index % histogramEvery === 0,
        spectra: rec !== undefined && index % (rec.every ?? 1) === 0,
      };
    },
  };
}

/**
 * Whether the measured step at `index` (its count among measured steps) measures the weights too: the first
 * WEIGHTS_FROM_START, every `every`-th, the one after a step whose gradients or loss were not finite (are the weights
 * still finite?), and every one while a critical problem is active (a warning — a norm sustained above 10, a
 * spike — keeps the cadence: deep nets train for thousands of steps with those, and the weight rule still sees them).
 */
function weightsDue(index: number, every: number, last: StepStatistics | undefined, monitor: Monitor | undefined): boolean {
  if (index < WEIGHTS_FROM_START || index % every === 0) return true;
  if (last && (last.nonFinite > 0 || (last.loss !== undefined && !Number.isFinite(last.loss)))) return true;
  return monitor !== undefined && monitor.active.some((d) => d.severity === 'critical');
}
