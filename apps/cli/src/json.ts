/**
 * JSON for `--json` output. JSON has no NaN or Infinity, and an exploding run is exactly where they appear: they are
 * written as the strings "NaN", "Infinity" and "-Infinity", as in the run log, instead of JSON.stringify's null.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}
