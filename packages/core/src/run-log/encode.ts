import type { RunLogRecord } from './schema';

/**
 * Serializes one record as one JSONL line (no trailing newline), keeping NaN and ±Infinity as strings.
 * Writing needs no validator: this file imports only types, so a writer's bundle carries no zod.
 *
 * A record is written once per training step, so this is on the step's path: a replacer function makes
 * `JSON.stringify` call back into JavaScript for every key (about twice the time for a 20-layer step record), so the
 * replacer runs only for the rare record that holds a non-finite number, found by one walk over its values.
 */
export function encodeRunLogRecord(record: RunLogRecord): string {
  return hasNonFinite(record, 0) ? JSON.stringify(record, keepNonFinite) : JSON.stringify(record);
}

function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Whether any number in `value` (objects and arrays walked, 64 levels at most) is NaN or ±Infinity. */
function hasNonFinite(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  // Deeper than any record nests: let the replacer decide (it handles any depth JSON.stringify does).
  if (depth > 64) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (hasNonFinite(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (hasNonFinite((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}
