import type { Diagnosis, EndRecord, StepStatistics } from '@gradguard/core/run-log';
import { type ModelSummary, type SummarizableModel, makeHeader, summarizeModel, toDiagnosisRecord, toStepRecord } from './records';
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
      if (ended) return;
      steps++;
      if (stats.loss !== undefined) lastLoss = stats.loss;
      const r = toStepRecord(stats, now() - started);
      each((s) => s.step(r));
    },
    diagnosis(d) {
      if (ended) return;
      const r = toDiagnosisRecord(d);
      each((s) => s.diagnosis(r));
    },
    watch(source) {
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
