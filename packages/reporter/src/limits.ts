/**
 * How much of a run the HTML report, the viewer and `gradguard compare` show, whatever the log holds: a log is data
 * from a training process and may be huge or hostile (a new layer name every step, a 50 MB run name), and a report
 * must still be made in seconds and stay a few MB. Charts keep every spike (see `chartData`); texts keep their start
 * and say how long they were.
 */
export const DISPLAY_LIMITS = {
  /** Points per chart series: longer runs are cut into buckets of steps, each drawn as its min and max. */
  maxPoints: 2000,
  /** Layer series per run: the layers with the largest gradient norm; the rest are one "other layers" series (their max). */
  maxLayerSeries: 20,
  /** Rows of the layer × step heatmap: more layers are grouped, consecutive in model order, into this many rows. */
  maxHeatmapRows: 64,
  /** Columns of the layer × step heatmap: longer runs are cut into buckets of consecutive steps. */
  maxHeatmapColumns: 400,
  /** Bars of the per-layer chart at the first diagnosis: the largest norms (and the blamed layer) are kept. */
  maxBars: 40,
  /** Characters of a name: run, run id, layer, model, backend, config key. */
  maxNameChars: 200,
  /** Characters of a longer text: diagnosis message, advice, config value, end reason. */
  maxTextChars: 2000,
  /** Diagnoses listed; the rest are counted. */
  maxDiagnoses: 200,
  /** Config entries and model layers listed; the rest are counted. */
  maxListed: 100,
} as const;

/**
 * `text` cut to `max` characters, with an ellipsis and its full length when it was longer (never a lone half of a
 * surrogate pair at the cut).
 */
export function truncateText(text: string, max: number = DISPLAY_LIMITS.maxNameChars): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length.toLocaleString('en-US')} characters)`;
}
