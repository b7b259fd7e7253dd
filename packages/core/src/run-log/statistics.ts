/** Gradient statistics of one variable at one step, read back from the device. */
export interface VariableStatistics {
  /** The variable's name (`tf.Variable.name`), the key of the gradient map. */
  readonly name: string;
  /** The layer that owns it, when the model is known. */
  readonly layer?: string;
  /** Number of entries. */
  readonly size: number;
  /** L2 norm. NaN when any entry is NaN, Infinity when any is ±Infinity (and none is NaN). */
  readonly norm: number;
  /** Largest |g|, with the same NaN/Infinity rule as `norm`. */
  readonly maxAbs: number;
  /** Count of NaN or ±Infinity entries. */
  readonly nonFinite: number;
  /** Count of entries exactly 0. */
  readonly zeros: number;
}

/** Statistics of one layer: its variables pooled. */
export interface LayerStatistics {
  readonly layer: string;
  readonly size: number;
  readonly norm: number;
  readonly maxAbs: number;
  readonly nonFinite: number;
  readonly zeros: number;
}

/** Everything measured about the gradients of one step. */
export interface GradientStatistics {
  readonly variables: readonly VariableStatistics[];
  /** Per layer, in the model's order (input to output); empty when no model is known. */
  readonly layers: readonly LayerStatistics[];
  /** sqrt(sum of squared entries over every variable), with the NaN/Infinity rule of `VariableStatistics.norm`. */
  readonly globalNorm: number;
  readonly maxAbs: number;
  readonly nonFinite: number;
  readonly size: number;
}

/** One training step as the monitor and the reporters see it. */
export interface StepStatistics extends GradientStatistics {
  /** 0-based count of optimizer updates. */
  readonly step: number;
  /** The loss returned by the step, when known (NaN when it was not finite, undefined when unknown). */
  readonly loss?: number;
  /** Global norm of the gradients before any transformation (equals `globalNorm`). */
  readonly preClipNorm: number;
  /** Global norm after the transformation, i.e. of what the optimizer applied. */
  readonly postClipNorm: number;
  /** postClipNorm / preClipNorm: 1 when nothing was clipped; 0 when the update was zeroed or skipped. */
  readonly scale: number;
  /** Whether the update was skipped (not applied). */
  readonly skipped: boolean;
  /** The learning rate in force, when the optimizer exposes one. */
  readonly learningRate?: number;
}
