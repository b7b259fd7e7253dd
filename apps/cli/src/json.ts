/**
 * JSON for `--json` output. JSON has no NaN or Infinity, and an exploding run is exactly where they appear: they are
 * written as the strings "NaN", "Infinity" and "-Infinity", as in the run log, instead of JSON.stringify's null.
 * JSON.stringify escapes the C0 controls but writes DEL and the C1 controls raw, and a terminal may act on those
 * (U+009B is CSI): they are written as \u escapes too, the same JSON value.
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
  return `${text.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
