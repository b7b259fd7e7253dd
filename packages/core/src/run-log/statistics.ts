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
  /** L2 norm of the variable's value (the weight, before this step's update), when measured. */
  readonly weightNorm?: number;
  /** L2 norm of the update applied to the variable at this step, when it was given. */
  readonly updateNorm?: number;
}

/** Statistics of one layer: its variables pooled. */
export interface LayerStatistics {
  readonly layer: string;
  readonly size: number;
  readonly norm: number;
  readonly maxAbs: number;
  readonly nonFinite: number;
  readonly zeros: number;
  /**
   * Entries of the layer's bias (one per unit; four per unit for an LSTM's gates, three for a GRU's), when it has one.
   * With `biasZeros`, the unit-level view the dead-unit and saturation rules judge: a bias entry's gradient is the
   * unit's error summed over the batch, exactly zero only when the unit passed no gradient for any example — whereas
   * the layer's kernel also has zero rows wherever its *input* was zero (a dead unit of the layer before).
   */
  readonly biasSize?: number;
  /** Entries of the bias gradient exactly zero: units that passed no gradient for any example of the batch. */
  readonly biasZeros?: number;
  /** L2 norm of the layer's weights (all its variables pooled), when measured. */
  readonly weightNorm?: number;
  /** L2 norm of the layer's update, when given. */
  readonly updateNorm?: number;
  /** updateNorm / weightNorm, the relative size of the step (about 1e-3 is typical for healthy training). */
  readonly updateRatio?: number;
  /**
   * Counts of |g| per fixed log-spaced bin (edges in `GradientStatistics.histogramEdges`), when measured:
   * `[below the first edge (zeros and NaN included), one count per bin, at or above the last edge]`.
   */
  readonly histogram?: readonly number[];
}

/** Spectral measurements of one recurrent kernel (one gate of it for LSTM and GRU). */
export interface RecurrentStatistics {
  /** Layer path, as in `LayerStatistics.layer`. */
  readonly layer: string;
  /** `SimpleRNN`, `LSTM` or `GRU` (the layer's class). */
  readonly className: string;
  /** `all` for SimpleRNN; `i`, `f`, `c`, `o` for LSTM; `z`, `r`, `h` for GRU (the tfjs gate order). */
  readonly gate: string;
  /** Largest |eigenvalue| of the gate's recurrent matrix: the per-step growth factor of a linearized recurrence. */
  readonly spectralRadius: number;
  /** Largest singular value (spectral norm): the most one step can stretch a vector; >= spectralRadius. */
  readonly maxSingularValue: number;
  /** Time steps per sequence, when the layer's input shape says so. */
  readonly timeSteps?: number;
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
  /** Global L2 norm of the weights, when measured. */
  readonly weightNorm?: number;
  /** Global L2 norm of the update, when given. */
  readonly updateNorm?: number;
  /** updateNorm / weightNorm over the whole model, when both are known. */
  readonly updateRatio?: number;
  /** The histogram bin edges (|g| values, ascending), when histograms were measured. */
  readonly histogramEdges?: readonly number[];
  /** The histogram of every gradient entry, laid out as `LayerStatistics.histogram`. */
  readonly histogram?: readonly number[];
  /** Recurrent kernels' spectral radius and norm, when measured (`recurrent: true`). */
  readonly recurrent?: readonly RecurrentStatistics[];
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
  /**
   * A non-finite step replayed on another backend (guard's `replayNonFiniteOn`): `backend` when the replay was finite
   * (the training backend's kernels produced the NaN/Infinity), `model` when it was not (the weights, data or loss).
   */
  readonly replay?: StepReplay;
}

/** Where a non-finite step's NaN/Infinity came from, by replaying it on another backend. */
export interface StepReplay {
  readonly verdict: 'backend' | 'model';
  /** The backend the step ran on (`wasm`, `webgl`...). */
  readonly backend: string;
  /** The backend it was replayed on (`cpu`). */
  readonly replayedOn: string;
}
