import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type RunLog, RunLogError, checkNumber } from '@gradguard/core/run-log/encode';
import { type ChartAssets, type HtmlReportOptions, renderHtmlReport } from './html-report';
import { createJsonlSink } from './jsonl';
import { checkRecord } from './check-arguments';
import type { RunSink } from './sink';
import { type LayerValues, encodeTensorBoardEvent, encodeTfRecord, fileVersionEvent, stepToTensorBoardEvent, tensorBoardFileName, wallTimeOf } from './tensorboard';

export { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_LOG_BYTES, readRunLogFile } from './read-run-log';
export type { RunLogFileOptions } from './read-run-log';

export { createConsoleSink } from './console-sink';
export type { ConsoleSinkOptions } from './console-sink';

export interface JsonlFileSinkOptions {
  /** fsync after every write (survives power loss, not just a crash); default false. Implies `flushMs: 0`. */
  readonly fsync?: boolean;
  /**
   * Longest a step record may wait in memory before it is written, in ms. Default 100: one `write` per batch of
   * steps instead of one per step (a write costs ~0.1–0.2 ms, a tenth of a small model's step). Header, diagnosis
   * and end records are written at once together with every step before them, and so is everything still buffered
   * when the process exits (an uncaught exception, `process.exit`). Only a process killed outright (SIGKILL, power
   * loss) can lose the step records of its last `flushMs`. `0` writes every record the moment it happens.
   */
  readonly flushMs?: number;
}

/** Flushes of the file sinks still open, run when the process exits (an uncaught exception included). */
const openFlushes = new Set<() => void>();
let exitHook = false;

/**
 * Writes the run log to `path` (created or truncated), one record per line: step records in batches written at least
 * every `flushMs` (see {@link JsonlFileSinkOptions}), every other record at once with everything before it. A run that
 * crashes leaves every record it produced readable; one killed mid-step, every record but its last `flushMs`.
 */
export function createJsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): RunSink {
  const flushMs = options.fsync ? 0 : checkNumber('createJsonlFileSink', 'flushMs', options.flushMs ?? 100, { min: 0, max: 60_000 });
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new RunLogError(`cannot open run log ${JSON.stringify(path)} for writing: ${(e as Error).message}.`, undefined, 'Check that the directory exists and is writable.');
  }
  let open = true;
  let buffered: string[] = [];
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A write that fails on the timer has no caller to throw to: it is kept and thrown by the next record or close.
  let failure: unknown;
  const rethrow = (): void => {
    if (failure === undefined) return;
    const f = failure;
    failure = undefined;
    throw f;
  };
  const flushLater = (): void => {
    try {
      flush();
    } catch (e) {
      failure ??= e;
    }
  };
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!open || buffered.length === 0) return;
    const text = buffered.length === 1 ? buffered[0]! : buffered.join('');
    buffered = [];
    bytes = 0;
    try {
      writeSync(fd, text);
      if (options.fsync) fsyncSync(fd);
    } catch (e) {
      throw writeError('run log', path, e);
    }
  };
  openFlushes.add(flush);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const f of openFlushes) {
        try {
          f();
        } catch {
          // exiting: a failed last write cannot be reported anywhere better than the missing lines themselves
        }
      }
    });
  }
  const base = createJsonlSink(
    (line) => {
      rethrow();
      if (!open) return;
      buffered.push(line);
      bytes += line.length;
      if (flushMs === 0 || bytes >= 1 << 16) flush();
      else timer ??= setTimeout(flushLater, flushMs).unref();
    },
    () => {
      rethrow();
      if (!open) return;
      flush();
      open = false;
      openFlushes.delete(flush);
      try {
        closeSync(fd);
      } catch (e) {
        throw writeError('run log', path, e);
      }
    },
  );
  const thenFlush =
    <T>(write: (r: T) => void) =>
    (r: T): void => {
      write(r);
      flush();
    };
  return { ...base, header: thenFlush(base.header), diagnosis: thenFlush(base.diagnosis), end: thenFlush(base.end) };
}

/** A failed write (a full disk: ENOSPC) as an error that names the file, so the user knows which disk to free. */
function writeError(what: string, path: string, e: unknown): RunLogError {
  return new RunLogError(`cannot write ${what} ${JSON.stringify(path)}: ${(e as Error).message}.`, undefined, 'Free space on that disk or write to another one.');
}

let assets: ChartAssets | undefined;

/** uPlot's browser build and stylesheet, read once from node_modules, for {@link renderHtmlReport}. */
export function loadChartAssets(): ChartAssets {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const dir = join(require.resolve('uplot/package.json'), '..', 'dist');
    assets = { script: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
  }
  return assets;
}

/** Writes the self-contained HTML report of `log` to `path` (see {@link renderHtmlReport}). */
export function writeHtmlReport(path: string, log: RunLog, options: HtmlReportOptions = {}): void {
  const html = renderHtmlReport(log, loadChartAssets(), options);
  try {
    writeFileSync(path, html);
  } catch (e) {
    throw new RunLogError(`cannot write the report ${JSON.stringify(path)}: ${(e as Error).message}.`, undefined, 'Check that the directory exists and is writable.');
  }
}

export interface TensorBoardSinkOptions {
  /** Host name in the file name; default `os.hostname()`. */
  readonly host?: string;
  /**
   * Each layer's weights, read when a step whose number is a multiple of `histogramEvery` arrives, for the
   * `weights/<layer>` histograms (with a tfjs model: `model.layers.map((l) => ({ layer: l.name, values:
   * l.getWeights().flatMap((w) => [...w.dataSync()]) }))`). The sink never loads tfjs itself.
   */
  readonly weights?: () => readonly LayerValues[];
  /** Steps between weight histograms (default 100; step 0 is one). Gradient histograms come with the steps that carry them. */
  readonly histogramEvery?: number;
}

export interface TensorBoardSink extends RunSink {
  /** The event file, once the header has been written. */
  readonly path: string | undefined;
  close(): void;
}

/** Event files this process has opened: the last part of their names (see `tensorBoardFileName`). */
let eventFiles = 0;

/**
 * Writes a run as a TensorBoard event file `events.out.tfevents.<secs>.<host>.<pid>.<n>` in `dir` (created if
 * missing): the file-version record first, then one event per step with scalars and a histogram of per-layer gradient
 * norms; per-layer gradient histograms (`grad_log10_abs/<layer>`) on the steps whose records carry them (the guard's
 * `histogram` cadence), and per-layer weight histograms (`weights/<layer>`) every `histogramEvery` steps when
 * `weights` is given. Each record is written the moment the step arrives, so `tensorboard --logdir` shows a live run. The file is
 * created exclusively (never truncated): runs of several processes, or of one, that start in the same second into one
 * directory each get a file of their own, the next free name.
 */
export function createTensorBoardSink(dir: string, options: TensorBoardSinkOptions = {}): TensorBoardSink {
  const every = options.histogramEvery ?? 100;
  if (!Number.isInteger(every) || every < 1) {
    throw new RunLogError(`createTensorBoardSink: histogramEvery must be a whole number >= 1, got ${String(every)}.`, undefined, 'Pass e.g. { histogramEvery: 100 }.');
  }
  let fd: number | undefined;
  let path: string | undefined;
  let started = 0;
  const write = (bytes: Uint8Array): void => {
    try {
      if (fd !== undefined) writeSync(fd, bytes);
    } catch (e) {
      throw writeError('TensorBoard events', path!, e);
    }
  };
  return {
    get path() {
      return path;
    },
    header(h) {
      checkRecord('tensorBoardSink.header', 'header', h);
      started = wallTimeOf(h.startedAt) * 1000;
      const name = (): string => tensorBoardFileName(Math.floor(started / 1000), options.host ?? hostname(), process.pid, eventFiles++);
      try {
        mkdirSync(dir, { recursive: true });
        // 'wx' fails with EEXIST instead of truncating another run's file: then take the next number.
        for (let tries = 0; fd === undefined; tries++) {
          path = join(dir, name());
          try {
            fd = openSync(path, 'wx');
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 1000) throw e;
          }
        }
      } catch (e) {
        throw new RunLogError(`cannot write TensorBoard events to ${JSON.stringify(dir)}: ${(e as Error).message}.`, undefined, 'Pick a writable directory for --tensorboard.');
      }
      write(encodeTfRecord(encodeTensorBoardEvent(fileVersionEvent(h, started / 1000))));
    },
    step(s) {
      checkRecord('tensorBoardSink.step', 'step', s);
      const weights = options.weights && s.step % every === 0 ? options.weights() : [];
      write(encodeTfRecord(encodeTensorBoardEvent(stepToTensorBoardEvent(s, (started + s.time) / 1000, weights))));
    },
    diagnosis() {},
    end() {},
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** Converts a saved run log into a TensorBoard event file in `dir`; returns the file's path. */
export function writeTensorBoardEvents(dir: string, log: RunLog, options: TensorBoardSinkOptions = {}): string {
  const sink = createTensorBoardSink(dir, options);
  sink.header(log.header);
  for (const s of log.steps) sink.step(s);
  sink.close();
  return sink.path!;
}

export type { RunSink };
