import type { DiagnosisRecord, HeaderRecord, RunLog, StepRecord } from '@gradguard/core/run-log';
import type { RunSink } from './sink';

export interface MemorySink extends RunSink {
  /** The run so far, in the form `readRunLogFile` returns (throws before the header has arrived). */
  readonly log: RunLog;
}

/** Keeps the run in memory as a `RunLog`, e.g. to render the HTML report at the end without reading the file back. */
export function createMemorySink(): MemorySink {
  let header: HeaderRecord | undefined;
  const steps: StepRecord[] = [];
  const diagnoses: DiagnosisRecord[] = [];
  let end: RunLog['end'];
  return {
    get log(): RunLog {
      if (!header) throw new Error('createMemorySink: no header yet; read .log after the recorder was created.');
      return { header, steps, diagnoses, end, truncated: false };
    },
    header(h) {
      header = h;
    },
    step(s) {
      steps.push(s);
    },
    diagnosis(d) {
      diagnoses.push(d);
    },
    end(e) {
      end = e;
    },
  };
}
