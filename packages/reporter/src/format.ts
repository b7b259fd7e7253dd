import { formatNumber } from '@gradguard/core/run-log/encode';

export { formatNumber };

// C0 controls but tab and newline, DEL, and the C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Makes the control characters in `text` visible before it reaches a terminal: ESC becomes the six characters
 * `\u001b`, BEL `\u0007`, and so on for every C0 control but tab and newline, DEL and every C1 control. A run log is
 * data someone else may have written; printed raw, a run or layer name could clear the screen, retitle the window,
 * rewrite earlier lines or forge a hyperlink (CWE-150). Idempotent: escaped text has nothing left to escape.
 */
export function escapeControlChars(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Left-pads or right-pads cells into an aligned plain-text table. Numbers align right; text is control-escaped. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : escapeControlChars(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  return cells
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
