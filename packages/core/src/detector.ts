import type { Advice, Problem, Severity } from './run-log/diagnosis';
import type { StepStatistics } from './run-log/statistics';

/** What a detector reports about one step; the monitor turns findings into diagnoses (onset, escalation, recovery). */
export interface Finding {
  readonly problem: Problem;
  readonly severity: Severity;
  readonly layer?: string;
  readonly message: string;
  readonly evidence: Readonly<Record<string, number | string | boolean | null>>;
  readonly advice: readonly Advice[];
}

/**
 * A detector is a rule over numbers: it sees each step's statistics in order and returns what it finds.
 * It may keep state between steps (an EMA, a streak); `reset` forgets it. Detectors never touch tfjs.
 */
export interface Detector {
  readonly name: string;
  observe(step: StepStatistics): readonly Finding[];
  reset(): void;
  /**
   * Told the model's layers once (optional: most rules need only numbers). Rules that name a problem by the kind of
   * layer — saturated tanh/sigmoid/LSTM units versus dead ReLU units — read it; `reset` keeps it (same model).
   */
  describeModel?(layers: readonly LayerDescription[]): void;
}

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/**
 * What a detector may know about one layer of the model, told once per run (`monitor.describeModel`): the run-log
 * header's `model.layers` entries have this shape, and `describeLayers(layerMap)` builds it from a model.
 */
export interface LayerDescription {
  /** Layer path, as in `LayerStatistics.layer`. */
  readonly name: string;
  /** The layer's class (`LSTM`, `Dense`, `Embedding`, `TimeDistributed`...). */
  readonly className: string;
  /** The activation its config names (`relu`, `tanh`, `softmax`...; a wrapper's is its inner layer's), when known. */
  readonly activation?: string;
  /** Its kernel's initial values, summarized, when measured before the first update (`measureKernels`). */
  readonly kernel?: KernelFacts;
}

/** A kernel's values summarized: what the initialization rules judge. */
export interface KernelFacts {
  /** Entries. */
  readonly size: number;
  /** Inputs per unit: the product of every dimension but the last. */
  readonly fanIn: number;
  /** Mean of the entries. */
  readonly mean: number;
  /** Root mean square of the entries. */
  readonly rms: number;
}
