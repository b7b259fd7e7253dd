import CRC32C from 'crc-32/crc32c.js';
import protobuf from 'protobufjs/light.js';
import type { HeaderRecord, StepRecord } from '@gradguard/core/run-log';

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

/** A tag-safe name: TensorBoard groups tags by their first `/`, so slashes in layer names become `_`. */
function tagPart(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}

/**
 * The scalars and histograms of one run-log step: loss, global norm, pre- and post-clip norm, clip scale, learning
 * rate, the count of non-finite entries, each layer's gradient norm, and a histogram of the per-layer gradient norms
 * (log-spaced buckets: it shows layers drifting apart by orders of magnitude). Non-finite scalars are kept: TensorBoard
 * shows NaN and Infinity as such.
 */
export function stepToTensorBoardEvent(step: StepRecord, wallTime: number): TensorBoardEvent {
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
