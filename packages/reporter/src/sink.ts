import type { DiagnosisRecord, EndRecord, HeaderRecord, StepRecord } from '@gradguard/core/run-log/encode';

/**
 * A destination for a run: the console, a JSONL file, an HTML report, TensorBoard. A recorder calls `header` once,
 * then `step` and `diagnosis` as they happen, then `end` once, then `close`.
 */
export interface RunSink {
  header(record: HeaderRecord): void;
  step(record: StepRecord): void;
  diagnosis(record: DiagnosisRecord): void;
  end(record: EndRecord): void;
  /** Flushes and releases what the sink holds (files, timers). */
  close?(): Promise<void> | void;
}
