import type { DiagnosisRecord, HeaderRecord, RunLog, StepRecord } from '@gradguard/core/run-log/encode';
import { checkRecord } from './check-arguments';
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
      checkRecord('memorySink.header', 'header', h);
      header = h;
    },
    step(s) {
      checkRecord('memorySink.step', 'step', s);
      steps.push(s);
    },
    diagnosis(d) {
      checkRecord('memorySink.diagnosis', 'diagnosis', d);
      diagnoses.push(d);
    },
    end(e) {
      checkRecord('memorySink.end', 'end', e);
      end = e;
    },
  };
}
