import { formatNumber as fmt } from '../format';
import type { RecurrentStatistics } from '../run-log/statistics';

/** Default sequence length assumed in messages when a layer's input shape does not fix T. */
const DEFAULT_T = 50;

/** Whether this class has gates that bound the recurrence (LSTM, GRU) rather than a plain W·h (SimpleRNN). */
export function isGated(className: string): boolean {
  return className !== 'SimpleRNN';
}

/** "radius r > 1: gradients through T steps can grow like r^T = …", the explanation every recurrent diagnosis gives. */
export function explainRadius(r: RecurrentStatistics): {
  text: string;
  /** `text` as a sentence: capitalized, with a full stop. */
  sentence: string;
  growth: number;
  timeSteps: number;
  /** The numbers behind it, as diagnosis evidence. */
  evidence: { className: string; gate: string; spectralRadius: number; maxSingularValue: number; timeSteps: number; growthBound: number };
} {
  const T = r.timeSteps ?? DEFAULT_T;
  const growth = r.spectralRadius ** T;
  const gate = r.gate === 'all' ? '' : ` (gate ${r.gate})`;
  const tNote = r.timeSteps === undefined ? ` (T = ${DEFAULT_T} assumed)` : '';
  const text =
    r.spectralRadius > 1
      ? `layer "${r.layer}"${gate}: recurrent kernel spectral radius r = ${fmt(r.spectralRadius)} > 1: gradients ` +
        `through T = ${T} steps${tNote} can grow like r^T = ${fmt(growth)}`
      : `layer "${r.layer}"${gate}: recurrent kernel spectral radius r = ${fmt(r.spectralRadius)} < 1: gradients ` +
        `through T = ${T} steps${tNote} can shrink like r^T = ${fmt(growth)}`;
  return {
    text,
    sentence: `${text.charAt(0).toUpperCase()}${text.slice(1)}.`,
    growth,
    timeSteps: T,
    evidence: {
      className: r.className,
      gate: r.gate,
      spectralRadius: r.spectralRadius,
      maxSingularValue: r.maxSingularValue,
      timeSteps: T,
      growthBound: growth,
    },
  };
}
