import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StepRecord, StepStatistics } from '@gradguard/core/run-log';
import { crc32cBitwise, decodeEvent, mask, readTfRecords } from '@gradguard/vitest-config/tensorboard-events'; // an independent reader: no protobufjs, no crc-32
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createTensorBoardSink, readRunLogFile, writeTensorBoardEvents, createJsonlFileSink } from './node';
import { createRecorder } from './recorder';
import { histogramOf, log10AbsHistogram, maskedCrc32c, valuesHistogram } from './tensorboard';

function stats(step: number, norms: [number, number], loss: number): StepStatistics {
  const g = Math.hypot(...norms);
  const scale = Number.isFinite(g) ? Math.min(1, 1 / g) : Number.NaN;
  return {
    step,
    variables: [],
    layers: [
      { layer: 'rnn', size: 40, norm: norms[0], maxAbs: norms[0] / 3, nonFinite: Number.isFinite(norms[0]) ? 0 : 40, zeros: 0 },
      { layer: 'dense/head', size: 9, norm: norms[1], maxAbs: norms[1] / 2, nonFinite: 0, zeros: 1 },
    ],
    globalNorm: Number.isFinite(g) ? g * scale : g,
    preClipNorm: g,
    postClipNorm: Number.isFinite(g) ? g * scale : g,
    scale,
    skipped: false,
    maxAbs: norms[0] / 3,
    nonFinite: Number.isFinite(norms[0]) ? 0 : 40,
    size: 49,
    loss,
    learningRate: 0.05,
  };
}

describe('TensorBoard event files', () => {
  it('crc-32 gives the CRC32C check value, and our masking matches the bitwise reference', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32cBitwise(check)).toBe(0xe3069283); // the published CRC-32C check value
    expect(maskedCrc32c(check)).toBe(mask(0xe3069283));
  });

  it('writes TFRecords of Event protos that an independent decoder reads back: file version, scalars, histograms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-'));
    const tb = createTensorBoardSink(dir, { host: 'testhost' });
    let t = Date.parse('2026-01-02T03:04:05.000Z');
    const rec = createRecorder({ name: 'tb', sinks: [tb], now: () => t });
    rec.step(stats(0, [3, 4], 0.75));
    t += 250;
    rec.step(stats(1, [3e4, 4e-3], 0.5));
    t += 250;
    rec.step(stats(2, [Number.NaN, 1], Number.NaN));
    await rec.end('stopped');

    expect(readdirSync(dir)).toEqual([expect.stringMatching(new RegExp(`^events\\.out\\.tfevents\\.1767323045\\.testhost\\.${process.pid}\\.\\d+$`))]);
    const events = readTfRecords(new Uint8Array(readFileSync(tb.path!))).map(decodeEvent);
    expect(events).toHaveLength(4);
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', step: 0, wallTime: 1767323045 });

    const e0 = events[1]!;
    expect(e0.step).toBe(0);
    expect(e0.wallTime).toBe(1767323045);
    expect(e0.scalars.get('loss')).toBe(0.75);
    expect(e0.scalars.get('gradients/pre_clip_norm')).toBe(5);
    expect(e0.scalars.get('gradients/post_clip_norm')).toBe(1);
    expect(e0.scalars.get('gradients/clip_scale')).toBeCloseTo(0.2, 7);
    expect(e0.scalars.get('optimizer/learning_rate')).toBeCloseTo(0.05, 7);
    expect(e0.scalars.get('layer_norm/rnn')).toBe(3);
    expect(e0.scalars.get('layer_norm/dense_head')).toBe(4); // '/' in a layer name would split TensorBoard's groups
    const h0 = e0.histos.get('gradients/layer_norms')!;
    expect(h0).toMatchObject({ min: 3, max: 4, num: 2, sum: 7, sumSquares: 25 });
    expect(h0.counts.reduce((a, b) => a + b, 0)).toBe(2);
    // Each value sits in the bucket whose right edge is the first >= it.
    for (const v of [3, 4]) {
      const i = h0.limits.findIndex((l) => v <= l);
      expect(h0.counts[i]).toBeGreaterThanOrEqual(1);
      expect(h0.limits[i - 1]!).toBeLessThan(v);
    }

    const e1 = events[2]!;
    expect(e1.wallTime).toBe(1767323045.25);
    expect(e1.scalars.get('gradients/pre_clip_norm')).toBeCloseTo(3e4, 0); // float32 of 30000.00000027
    expect(e1.scalars.get('layer_norm/dense_head')).toBeCloseTo(4e-3, 9);
    expect(e1.histos.get('gradients/layer_norms')).toMatchObject({ min: 4e-3, max: 3e4, num: 2 });

    // NaN survives as a float32 NaN; the histogram leaves it out.
    const e2 = events[3]!;
    expect(e2.scalars.get('loss')).toBeNaN();
    expect(e2.scalars.get('gradients/pre_clip_norm')).toBeNaN();
    expect(e2.scalars.get('gradients/non_finite')).toBe(40);
    expect(e2.histos.get('gradients/layer_norms')).toMatchObject({ min: 1, max: 1, num: 1 });
  });

  it('converts a saved JSONL run log into the same events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-'));
    const rec = createRecorder({ name: 'log', sinks: [createJsonlFileSink(join(dir, 'run.jsonl'))] });
    for (let i = 0; i < 5; i++) rec.step(stats(i, [2 ** i, 1], 1 / (i + 1)));
    await rec.end('completed');
    const path = writeTensorBoardEvents(join(dir, 'tb'), readRunLogFile(join(dir, 'run.jsonl')), { host: 'h' });
    const events = readTfRecords(new Uint8Array(readFileSync(path))).map(decodeEvent);
    expect(events.slice(1).map((e) => e.step)).toEqual([0, 1, 2, 3, 4]);
    expect(events.slice(1).map((e) => e.scalars.get('layer_norm/rnn'))).toEqual([1, 2, 4, 8, 16]);
    expect(events[5]!.scalars.get('loss')).toBeCloseTo(0.2, 7);
  });

  it('never truncates a file that is there: the sink takes the next free name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-'));
    const taken = Array.from({ length: 100 }, (_, n) => join(dir, `events.out.tfevents.1767323045.h.${process.pid}.${n}`));
    for (const p of taken) writeFileSync(p, 'another run');
    const path = writeTensorBoardEvents(dir, { header: { type: 'header', version: 1, runId: 'r', name: 'r', startedAt: '2026-01-02T03:04:05.000Z', config: {} }, steps: [], diagnoses: [], end: undefined, truncated: false }, { host: 'h' });
    expect(taken).not.toContain(path);
    expect(Number(path.split('.').at(-1))).toBeGreaterThanOrEqual(100);
    for (const p of taken) expect(readFileSync(p, 'utf8')).toBe('another run');
    expect(readTfRecords(new Uint8Array(readFileSync(path))).map(decodeEvent)[0]!.fileVersion).toBe('brain.Event:2');
  });

  it('histogramOf: counts every finite value once, sums and extremes exact', () => {
    const v = [-2, -1e-3, 0, 1e-6, 5, 5, 1e9, Number.POSITIVE_INFINITY];
    const h = histogramOf(v)!;
    expect(h.num).toBe(7);
    expect(h.min).toBe(-2);
    expect(h.max).toBe(1e9);
    expect(h.sum).toBeCloseTo(-2 - 1e-3 + 1e-6 + 10 + 1e9, 3);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(7);
    expect(h.bucketLimit.every((l, i) => i === 0 || l > h.bucketLimit[i - 1]!)).toBe(true);
    expect(histogramOf([Number.NaN])).toBeUndefined();
  });

  it('runs that start in the same second in one directory, in 4 processes × 2 writers, get 8 files, each its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-concurrent-'));
    const child = join(dir, 'write-tensorboard.mjs');
    buildSync({
      entryPoints: [fileURLToPath(new URL('../test/write-tensorboard.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@gradguard/source'],
      outfile: child,
      logLevel: 'silent',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    const logdir = join(dir, 'tb');
    const startedAt = Date.parse('2026-01-02T03:04:05.500Z');
    const goAt = Date.now() + 1500; // after every process has started
    const paths = await Promise.all(
      [0, 1, 2, 3].map(
        (p) =>
          new Promise<string[]>((resolve, reject) => {
            const c = spawn(process.execPath, [child, logdir, String(p), String(goAt), String(startedAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            c.stdout.on('data', (b) => (out += String(b)));
            c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`writer ${p} exited with ${code}`))));
          }),
      ),
    );
    const files = readdirSync(logdir).sort();
    expect(files).toHaveLength(8);
    expect(paths.flat().map((p) => p.slice(logdir.length + 1)).sort()).toEqual(files);
    for (const f of files) expect(f).toMatch(new RegExp(`^events\\.out\\.tfevents\\.${Math.floor(startedAt / 1000)}\\.`));
    paths.forEach((pair, p) =>
      pair.forEach((path, w) => {
        const events = readTfRecords(new Uint8Array(readFileSync(path))).map(decodeEvent);
        expect(events[0]!.fileVersion).toBe('brain.Event:2');
        expect(events.slice(1).map((e) => e.scalars.get('loss')), `${path} holds writer ${w} of process ${p}`).toEqual(
          [0, 1, 2, 3, 4, 5, 6, 7].map((s) => p * 100 + w * 10 + s),
        );
      }),
    );
  }, 60_000);
});

describe('per-layer histograms in TensorBoard', () => {
  const edges = [1e-4, 1e-3, 1e-2, 1e-1, 1]; // 4 bins, a decade each
  /** A step whose layer "rnn" counted [below 1e-4: 3 (2 zeros), 1e-4..1e-3: 5, …, >= 1: 1] and "head" nothing but zeros. */
  function histogramStep(step: number): StepRecord {
    return {
      type: 'step', step, time: step * 100, loss: 1, globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false, learningRate: 0.1,
      maxAbs: 3.5, nonFinite: 0, histogramEdges: edges, histogram: [3 + 4, 5, 0, 7, 2, 1],
      layers: [
        { layer: 'rnn', size: 18, norm: 1, maxAbs: 3.5, nonFinite: 0, zeros: 2, histogram: [3, 5, 0, 7, 2, 1] },
        { layer: 'dense/head', size: 4, norm: 0, maxAbs: 0, nonFinite: 0, zeros: 4, histogram: [4, 0, 0, 0, 0, 0] },
      ],
    };
  }

  it('gradient histograms of log10|g| from the counts the kernel keeps, and weight histograms at the sink cadence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-hist-'));
    const weightsRead: number[] = [];
    let call = 0;
    const tb = createTensorBoardSink(dir, {
      host: 'h',
      histogramEvery: 2,
      weights: () => {
        weightsRead.push(call);
        return [{ layer: 'dense/head', values: Float32Array.from([-0.5, 0, 0.25, 0.25, Number.NaN, 2]) }];
      },
    });
    tb.header({ type: 'header', version: 1, runId: 'r', name: 'r', startedAt: '2026-01-02T03:04:05.000Z', config: {} });
    for (call = 0; call < 5; call++) tb.step(histogramStep(call));
    tb.close();
    expect(weightsRead).toEqual([0, 2, 4]); // steps 0, 2, 4: every histogramEvery = 2
    const events = readTfRecords(new Uint8Array(readFileSync(tb.path!))).map(decodeEvent).slice(1);
    expect(events.map((e) => e.histos.has('weights/dense_head'))).toEqual([true, false, true, false, true]);

    const g = events[1]!.histos.get('grad_log10_abs/rnn')!;
    // Zeros leave the lowest bucket (3 - 2 = 1 below 1e-4); log10 edges -4..0, then log10(max|g|) = log10(3.5).
    expect(g.limits.map((x) => Number(x.toFixed(9)))).toEqual([-4, -3, -2, -1, 0, Number(Math.log10(3.5).toFixed(9))]);
    expect(g.counts).toEqual([1, 5, 0, 7, 2, 1]);
    expect(g.num).toBe(16);
    expect(g.min).toBe(-5); // one bin width below the first edge
    expect(g.max).toBeCloseTo(Math.log10(3.5), 12);
    // sum over bin centres: -4.5·1 - 3.5·5 - 1.5·7 - 0.5·2 + (0 + log10 3.5)/2 · 1
    expect(g.sum).toBeCloseTo(-4.5 - 17.5 - 10.5 - 1 + Math.log10(3.5) / 2, 9);
    expect(events[1]!.histos.has('grad_log10_abs/dense_head')).toBe(false); // nothing but zeros: nothing to draw

    const w = events[0]!.histos.get('weights/dense_head')!;
    expect(w).toMatchObject({ num: 5, min: -0.5, max: 2, sum: 2, sumSquares: 0.25 + 0.0625 * 2 + 4 });
    expect(w.counts.reduce((a, b) => a + b, 0)).toBe(5);
    // Each value in the bucket whose right edge is the first >= it (TensorFlow's convention), ascending edges.
    expect(w.limits.every((l, i) => i === 0 || l > w.limits[i - 1]!)).toBe(true);
    for (const v of [-0.5, 0, 0.25, 2]) {
      const i = w.limits.findIndex((l) => v <= l);
      expect(w.counts[i], `bucket of ${v}`).toBeGreaterThanOrEqual(1);
      if (i > 0) expect(w.limits[i - 1]!).toBeLessThan(v);
    }
    expect(w.counts[w.limits.findIndex((l) => 0.25 <= l)]).toBe(2);
  });

  it('log10AbsHistogram takes NaN and ±Infinity out of the end buckets; valuesHistogram handles 1,000,000 values', () => {
    // 2 non-finite entries: the overflow bucket holds 1 (an Infinity), the underflow 1 NaN + 1 zero + 1 tiny value.
    const h = log10AbsHistogram([1e-2, 1e-1, 1], [3, 4, 0, 1], { zeros: 1, nonFinite: 2, maxAbs: Number.POSITIVE_INFINITY })!;
    expect(h.bucket).toEqual([1, 4]);
    expect(h.num).toBe(5);
    expect(log10AbsHistogram([1e-2, 1e-1], [2, 0, 0], { zeros: 2, nonFinite: 0, maxAbs: 0 })).toBeUndefined();
    const many = new Float32Array(1_000_000).map((_, i) => Math.sin(i) * 3);
    const started = performance.now();
    const v = valuesHistogram(many)!;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(v.num).toBe(1_000_000);
    expect(v.bucket.reduce((a, b) => a + b, 0)).toBe(1_000_000);
    expect(v.max).toBeLessThanOrEqual(3);
    expect(v.min).toBeGreaterThanOrEqual(-3);
  });
});
