import type { Diagnosis, EndRecord, StepStatistics } from '@gradguard/core/run-log/encode';
import { type ModelSummary, type SummarizableModel, makeHeader, summarizeModel, toDiagnosisRecord, toStepRecord } from './records';
import { InvalidArgumentError, checkOptions, describeValue } from '@gradguard/core/run-log/encode';
import { checkConfig, checkFunction, checkSink } from './check-arguments';
import type { RunSink } from './sink';

/** What a recorder can watch: a guarded optimizer (structural, so the reporter does not depend on mitigations). */
export interface Watchable {
  onStep(listener: (s: StepStatistics) => void): () => void;
  readonly monitor?: { subscribe(listener: (d: Diagnosis) => void): () => void } | undefined;
}

export interface RecorderOptions {
  readonly name: string;
  readonly sinks: readonly RunSink[];
  readonly model?: SummarizableModel | ModelSummary;
  readonly backend?: string;
  /** Free-form settings of the run (optimizer, LR, transform, seed...), kept in the header. */
  readonly config?: Record<string, unknown>;
  readonly runId?: string;
  /** Clock in milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
}

export interface Recorder {
  readonly runId: string;
  /** Records one step (usually via `watch`). */
  step(stats: StepStatistics): void;
  diagnosis(d: Diagnosis): void;
  /** Subscribes to a guarded optimizer's steps and its monitor's diagnoses; returns an unsubscribe function. */
  watch(source: Watchable): () => void;
  /** Writes the end record and closes every sink. Later calls do nothing. */
  end(status: EndRecord['status'], details?: { reason?: string; finalLoss?: number | null }): Promise<void>;
  /** Steps recorded so far. */
  readonly steps: number;
}

function isSummary(m: SummarizableModel | ModelSummary): m is ModelSummary {
  return typeof (m as SummarizableModel).countParams !== 'function';
}

/**
 * Fans one run out to several sinks in run-log form: a header at once, each step and diagnosis as it arrives,
 * and an end record. A sink that throws does not stop the others; the first error is rethrown by `end`.
 */
export function createRecorder(options: RecorderOptions): Recorder {
  checkRecorderOptions(options);
  const now = options.now ?? Date.now;
  const started = now();
  const runId = options.runId ?? `${new Date(started).toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  const model = options.model === undefined ? undefined : isSummary(options.model) ? options.model : summarizeModel(options.model);
  let failure: unknown;
  let steps = 0;
  let lastLoss: number | null = null;
  let ended = false;
  const each = (f: (s: RunSink) => void): void => {
    for (const s of options.sinks) {
      try {
        f(s);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  const header = makeHeader({
    runId,
    name: options.name,
    startedAt: new Date(started),
    ...(options.backend !== undefined ? { backend: options.backend } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(options.config !== undefined ? { config: options.config } : {}),
  });
  each((s) => s.header(header));
  return {
    runId,
    get steps() {
      return steps;
    },
    step(stats) {
      checkStats('recorder.step', stats, 'the statistics of one step (StepStatistics), e.g. from guard\'s onStep');
      if (ended) return;
      steps++;
      if (stats.loss !== undefined) lastLoss = stats.loss;
      const r = toStepRecord(stats, now() - started);
      each((s) => s.step(r));
    },
    diagnosis(d) {
      checkStats('recorder.diagnosis', d, "a diagnosis, e.g. from the monitor's subscribe");
      if (ended) return;
      const r = toDiagnosisRecord(d);
      each((s) => s.diagnosis(r));
    },
    watch(source) {
      if (typeof (source as Partial<Watchable> | null)?.onStep !== 'function') {
        throw new InvalidArgumentError(
          `recorder.watch: expected a guarded optimizer (with onStep), got ${describeValue(source)}.`,
          'Pass the optimizer guard(...) returned.',
        );
      }
      const offStep = source.onStep((s) => this.step(s));
      const offDiag = source.monitor?.subscribe((d) => this.diagnosis(d));
      return () => {
        offStep();
        offDiag?.();
      };
    },
    async end(status, details = {}) {
      if (ended) return;
      ended = true;
      const finalLoss = details.finalLoss !== undefined ? details.finalLoss : lastLoss;
      const r: EndRecord = {
        type: 'end',
        status,
        steps,
        endedAt: new Date(now()).toISOString(),
        ...(details.reason !== undefined ? { reason: details.reason } : {}),
        finalLoss,
      };
      each((s) => s.end(r));
      for (const s of options.sinks) {
        try {
          await s.close?.();
        } catch (e) {
          failure ??= e;
        }
      }
      if (failure !== undefined) throw failure;
    },
  };
}

const RECORDER_OPTIONS = ['name', 'sinks', 'model', 'backend', 'config', 'runId', 'now'] as const;

function checkRecorderOptions(options: RecorderOptions): void {
  const where = 'createRecorder';
  if (options === undefined) {
    throw new InvalidArgumentError(`${where}: options are required, got undefined.`, "Pass { name: 'my-run', sinks: [createJsonlFileSink('run.jsonl')] }.");
  }
  checkOptions(where, options, RECORDER_OPTIONS);
  if (typeof options.name !== 'string' || options.name === '') {
    throw new InvalidArgumentError(`${where}: name must be a non-empty string, got ${describeValue(options.name)}.`, "Name the run, e.g. name: 'mlp-adam'.");
  }
  if (!Array.isArray(options.sinks)) {
    throw new InvalidArgumentError(`${where}: sinks must be an array of sinks, got ${describeValue(options.sinks)}.`, 'Pass e.g. sinks: [createMemorySink()].');
  }
  options.sinks.forEach((s, i) => checkSink(where, `sinks[${i}]`, s));
  if (options.config !== undefined) checkConfig(where, options.config);
  for (const key of ['backend', 'runId'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'string') throw new InvalidArgumentError(`${where}: ${key} must be a string, got ${describeValue(v)}.`);
  }
  checkFunction(where, 'now', options.now, 'Pass a clock in milliseconds such as () => Date.now(), or leave it out.', true);
}

function checkStats(where: string, value: unknown, what: string): void {
  const v = value as { step?: unknown } | null;
  if (typeof v !== 'object' || v === null || !(typeof v.step === 'number' && Number.isInteger(v.step) && v.step >= 0)) {
    throw new InvalidArgumentError(`${where}: expected ${what} with an integer step >= 0, got ${describeValue(value)}.`, 'Or let recorder.watch(optimizer) feed it.');
  }
}
