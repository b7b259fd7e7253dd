import CRC32C from 'crc-32/crc32c.js';
import protobuf from 'protobufjs/light.js';
import type { HeaderRecord, StepRecord } from '@gradguard/core/run-log/encode';

/**
 * The four TensorFlow messages an event file needs, with field numbers exactly as in TensorFlow's
 * `core/util/event.proto` (Event) and `core/framework/summary.proto` (Summary, Summary.Value, HistogramProto).
 * Fields we never write (graph_def, image, audio, tensor, metadata...) are left out: a decoder skips unknown fields
 * and we never read these back with protobufjs.
 */
const DESCRIPTOR = {
  nested: {
    tensorflow: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'summary'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'histo'] } },
              fields: {
                tag: { type: 'string', id: 1 },
                simpleValue: { type: 'float', id: 2 },
                histo: { type: 'HistogramProto', id: 5 },
              },
            },
          },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sumSquares: { type: 'double', id: 5 },
            bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: { packed: true } },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: { packed: true } },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const EventType = root.lookupType('tensorflow.Event');

/** The `file_version` of the first record; TensorBoard ignores a file whose first event does not carry it. */
export const TENSORBOARD_FILE_VERSION = 'brain.Event:2';

export interface TensorBoardHistogram {
  readonly min: number;
  readonly max: number;
  readonly num: number;
  readonly sum: number;
  readonly sumSquares: number;
  /** Right edges of the buckets, ascending; bucket i holds values in (limit[i-1], limit[i]]. */
  readonly bucketLimit: readonly number[];
  readonly bucket: readonly number[];
}

export interface TensorBoardValue {
  readonly tag: string;
  readonly simpleValue?: number;
  readonly histo?: TensorBoardHistogram;
}

export interface TensorBoardEvent {
  /** Seconds since the epoch. */
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly values?: readonly TensorBoardValue[];
}

/** CRC32C as TFRecord stores it: rotated right by 15 bits plus a constant, so CRCs of CRCs do not degenerate. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 length, masked CRC32C of the length bytes, the data, masked CRC32C of the data (little endian). */
export function encodeTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** One `tensorflow.Event` message, protobuf-encoded. */
export function encodeTensorBoardEvent(event: TensorBoardEvent): Uint8Array {
  const message: Record<string, unknown> = { wallTime: event.wallTime, step: event.step };
  if (event.fileVersion !== undefined) message.fileVersion = event.fileVersion;
  else if (event.values) message.summary = { value: event.values.map((v) => ({ ...v })) };
  return EventType.encode(EventType.fromObject(message)).finish();
}

/**
 * A histogram of `values` in TensorBoard's form, over log-spaced buckets like TensorFlow's default (each edge 1.1
 * times the last, mirrored for negatives) trimmed to the range the values span. Non-finite values are left out.
 */
export function histogramOf(values: readonly number[]): TensorBoardHistogram | undefined {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return undefined;
  const positive: number[] = [];
  for (let x = 1e-12; x < 1e20; x *= 1.1) positive.push(x);
  const edges = [...positive.map((x) => -x).reverse(), 0, ...positive, Number.MAX_VALUE];
  const counts = new Array<number>(edges.length).fill(0);
  for (const x of v) {
    let lo = 0;
    let hi = edges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x <= edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  const first = counts.findIndex((c) => c > 0);
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  const from = Math.max(0, first - 1);
  return {
    min: Math.min(...v),
    max: Math.max(...v),
    num: v.length,
    sum: v.reduce((a, b) => a + b, 0),
    sumSquares: v.reduce((a, b) => a + b * b, 0),
    bucketLimit: edges.slice(from, last + 1),
    bucket: counts.slice(from, last + 1),
  };
}

/**
 * A layer's histogram of |g| as the statistics kernel counts it (fixed log-spaced edges, see `HistogramOptions` in
 * core: `[below edges[0] (zeros and NaN included), one count per bin, at or above the last edge (±Infinity included)]`)
 * in TensorBoard's form over log10|g|, because TensorBoard draws histograms on a linear axis and gradients span
 * decades: bucket i holds log10|g| in (limit[i-1], limit[i]]. The zeros and non-finite entries the layer counted are
 * left out of the lowest and highest buckets; `min` and `max` are the lowest and highest occupied edge (the top one
 * log10 of the layer's max |g| when finite); `sum` and `sumSquares` are over bin centres (the counts are all the kernel
 * keeps). Undefined when nothing finite and non-zero was counted.
 */
export function log10AbsHistogram(
  edges: readonly number[],
  counts: readonly number[],
  layer: { readonly zeros: number; readonly nonFinite: number; readonly maxAbs: number },
): TensorBoardHistogram | undefined {
  if (edges.length < 2 || counts.length !== edges.length + 1) return undefined;
  const logs = edges.map((e) => Math.log10(e));
  const width = logs[1]! - logs[0]!;
  const top = Number.isFinite(layer.maxAbs) && layer.maxAbs > 0 ? Math.log10(layer.maxAbs) : logs.at(-1)! + width;
  // Right edges: below the first edge, each bin's upper edge, and the highest |g| for the overflow bucket.
  const limits = [logs[0]!, ...logs.slice(1), Math.max(top, logs.at(-1)! + 1e-9)];
  const bucket = counts.map((c, i) => (i === 0 ? Math.max(0, c - layer.zeros) : c));
  // NaN lands below the first edge, ±Infinity at or above the last: without the split, take the non-finite count
  // from the overflow first (the kernel squares g, so Infinity always lands there), the rest from the underflow.
  let bad = layer.nonFinite;
  const fromTop = Math.min(bad, bucket.at(-1)!);
  bucket[bucket.length - 1] = bucket.at(-1)! - fromTop;
  bad -= fromTop;
  bucket[0] = Math.max(0, bucket[0]! - bad);
  const first = bucket.findIndex((c) => c > 0);
  if (first < 0) return undefined;
  let last = bucket.length - 1;
  while (bucket[last] === 0) last--;
  const lower = (i: number): number => (i === 0 ? logs[0]! - width : limits[i - 1]!);
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = first; i <= last; i++) {
    const mid = (lower(i) + limits[i]!) / 2;
    num += bucket[i]!;
    sum += bucket[i]! * mid;
    sumSquares += bucket[i]! * mid * mid;
  }
  return {
    min: lower(first),
    max: limits[last]!,
    num,
    sum,
    sumSquares,
    bucketLimit: limits.slice(first, last + 1),
    bucket: bucket.slice(first, last + 1),
  };
}

/**
 * A histogram of many values (a layer's weights) in TensorBoard's form: TensorFlow's default buckets (edges 1e-12 ×
 * 1.1^k, mirrored for negatives, and 0), trimmed to the range the values span; one pass, no copy, non-finite values left
 * out. `histogramOf` is the same for short lists.
 */
export function valuesHistogram(values: ArrayLike<number>): TensorBoardHistogram | undefined {
  const counts = new Map<number, number>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  const LOG11 = Math.log(1.1);
  const LOG_FIRST = Math.log(1e-12);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) continue;
    num++;
    sum += x;
    sumSquares += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
    // Bucket k > 0 holds |x| in (1e-12·1.1^(k-1), 1e-12·1.1^k]; 0 holds 0 and |x| <= 1e-12; the sign makes it ±k.
    const a = Math.abs(x);
    let k = a <= 1e-12 ? 0 : Math.ceil((Math.log(a) - LOG_FIRST) / LOG11 - 1e-9);
    if (k > 0 && 1e-12 * 1.1 ** (k - 1) >= a) k--;
    const key = x < 0 && k > 0 ? -k : k;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (num === 0) return undefined;
  const keys = [...counts.keys()].sort((a, b) => a - b);
  const edge = (key: number): number => (key === 0 ? 1e-12 : key > 0 ? 1e-12 * 1.1 ** key : -1e-12 * 1.1 ** (-key - 1));
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let key = keys[0]!; key <= keys.at(-1)!; key++) {
    bucketLimit.push(edge(key));
    bucket.push(counts.get(key) ?? 0);
  }
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}

/** One layer's weights (all its variables' values, in any order), for weight histograms. */
export interface LayerValues {
  readonly layer: string;
  readonly values: ArrayLike<number>;
}

/** A tag-safe name: TensorBoard groups tags by their first `/`, so slashes in layer names become `_`. */
function tagPart(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}

/**
 * The scalars and histograms of one run-log step: loss, global norm, pre- and post-clip norm, clip scale, learning
 * rate, the count of non-finite entries, each layer's gradient norm, and a histogram of the per-layer gradient norms
 * (log-spaced buckets: it shows layers drifting apart by orders of magnitude). Non-finite scalars are kept: TensorBoard
 * shows NaN and Infinity as such.
 *
 * Per-layer histograms, when there is something to draw: `grad_log10_abs/<layer>` from the record's own per-layer
 * histograms (measured at the guard's histogram cadence: see {@link log10AbsHistogram}), and `weights/<layer>` from
 * `weights` (the sink reads them at its cadence: {@link valuesHistogram}).
 */
export function stepToTensorBoardEvent(step: StepRecord, wallTime: number, weights: readonly LayerValues[] = []): TensorBoardEvent {
  const values: TensorBoardValue[] = [];
  const scalar = (tag: string, v: number | null): void => {
    if (v !== null) values.push({ tag, simpleValue: v });
  };
  scalar('loss', step.loss);
  scalar('gradients/global_norm', step.globalNorm);
  scalar('gradients/pre_clip_norm', step.preClipNorm);
  scalar('gradients/post_clip_norm', step.postClipNorm);
  scalar('gradients/clip_scale', step.scale);
  scalar('gradients/max_abs', step.maxAbs);
  scalar('gradients/non_finite', step.nonFinite);
  scalar('optimizer/learning_rate', step.learningRate);
  for (const l of step.layers) scalar(`layer_norm/${tagPart(l.layer)}`, l.norm);
  const histo = histogramOf(step.layers.map((l) => l.norm));
  if (histo) values.push({ tag: 'gradients/layer_norms', histo });
  if (step.histogramEdges) {
    for (const l of step.layers) {
      const h = l.histogram && log10AbsHistogram(step.histogramEdges, l.histogram, l);
      if (h) values.push({ tag: `grad_log10_abs/${tagPart(l.layer)}`, histo: h });
    }
  }
  for (const w of weights) {
    const h = valuesHistogram(w.values);
    if (h) values.push({ tag: `weights/${tagPart(w.layer)}`, histo: h });
  }
  return { wallTime, step: step.step, values };
}

/** The first record of an event file; `wallTime` is the run's start (see {@link wallTimeOf}). */
export function fileVersionEvent(header: HeaderRecord, wallTime = wallTimeOf(header.startedAt)): TensorBoardEvent {
  return { wallTime, step: 0, fileVersion: TENSORBOARD_FILE_VERSION };
}

/**
 * A run's start as TensorBoard's wall time (seconds since the epoch). The header's `startedAt` is any string in a log
 * someone else wrote: one that is not a date (or lies before 1970) gives the current time, as TensorFlow's own writer
 * uses, never NaN — which would name the file `events.out.tfevents.NaN...` and put every step at an unknown time.
 */
export function wallTimeOf(startedAt: string, now: () => number = Date.now): number {
  const ms = Date.parse(startedAt);
  return (Number.isFinite(ms) && ms >= 0 ? ms : now()) / 1000;
}

/**
 * An event file's name as TensorFlow's summary writer makes it: `events.out.tfevents.<secs>.<host>.<pid>.<n>`, where
 * `n` counts the files this process has opened. Seconds and host alone collide when two runs start in the same second
 * into one directory; the pid and counter keep them apart (TensorBoard reads every file whose name holds `tfevents`).
 */
export function tensorBoardFileName(seconds: number, host: string, pid: number, n: number): string {
  return `events.out.tfevents.${seconds}.${host.replace(/[^\w.-]/g, '_')}.${pid}.${n}`;
}
