import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type RunLog, RunLogError } from '@gradguard/core/run-log';
import { type ChartAssets, type HtmlReportOptions, renderHtmlReport } from './html-report';
import { createJsonlSink } from './jsonl';
import { checkRecord } from './check-arguments';
import type { RunSink } from './sink';
import { encodeTensorBoardEvent, encodeTfRecord, fileVersionEvent, stepToTensorBoardEvent, tensorBoardFileName, wallTimeOf } from './tensorboard';

export { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_LOG_BYTES, readRunLogFile } from './read-run-log';
export type { RunLogFileOptions } from './read-run-log';

export { createConsoleSink } from './console-sink';
export type { ConsoleSinkOptions } from './console-sink';

export interface JsonlFileSinkOptions {
  /** fsync after every record (survives power loss, not just a crash); default false. */
  readonly fsync?: boolean;
}

/**
 * Writes the run log to `path` (created or truncated), one record per line, each with a single `write` the moment it
 * happens: a run that crashes or is killed mid-step leaves every finished record readable.
 */
export function createJsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): RunSink {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new RunLogError(`cannot open run log ${JSON.stringify(path)} for writing: ${(e as Error).message}.`, undefined, 'Check that the directory exists and is writable.');
  }
  let open = true;
  return createJsonlSink(
    (line) => {
      if (!open) return;
      try {
        writeSync(fd, line);
        if (options.fsync) fsyncSync(fd);
      } catch (e) {
        throw writeError('run log', path, e);
      }
    },
    () => {
      if (!open) return;
      open = false;
      try {
        closeSync(fd);
      } catch (e) {
        throw writeError('run log', path, e);
      }
    },
  );
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
 * norms. Each record is written the moment the step arrives, so `tensorboard --logdir` shows a live run. The file is
 * created exclusively (never truncated): runs of several processes, or of one, that start in the same second into one
 * directory each get a file of their own, the next free name.
 */
export function createTensorBoardSink(dir: string, options: TensorBoardSinkOptions = {}): TensorBoardSink {
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
      write(encodeTfRecord(encodeTensorBoardEvent(stepToTensorBoardEvent(s, (started + s.time) / 1000))));
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
