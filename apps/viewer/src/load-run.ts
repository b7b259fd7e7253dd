import { GradguardError, type RunLog, RunLogError, parseRunLog } from '@gradguard/core/run-log';

/** A run log read from a file: the parsed log, or why it could not be read. */
export type LoadedRun =
  | { readonly ok: true; readonly file: string; readonly log: RunLog }
  | {
      readonly ok: false;
      readonly file: string;
      /** What was wrong, with the line number in the message when one is known. */
      readonly message: string;
      /** 1-based line of the JSONL text that was rejected, when one was. */
      readonly line: number | undefined;
    };

/** Most files the page compares at once: a run and the run it is compared with. */
export const MAX_RUNS = 2;

/**
 * Parses the text of one JSONL run log with the schema of `@gradguard/core/run-log` (no tfjs on this path). A log
 * whose last line was cut off mid-write still loads (`log.truncated`); any other bad line is rejected with its number.
 */
export function loadRunText(file: string, text: string): LoadedRun {
  try {
    return { ok: true, file, log: parseRunLog(text) };
  } catch (e) {
    if (e instanceof RunLogError) return { ok: false, file, message: e.message, line: e.line };
    if (e instanceof GradguardError) return { ok: false, file, message: e.message, line: undefined };
    throw e;
  }
}

/** What a file picker or a drop hands over (a `File` satisfies it). */
export interface TextSource {
  readonly name: string;
  text(): Promise<string>;
}

/**
 * Reads up to {@link MAX_RUNS} run-log files. More files than that is a usage error, reported as a failed load of the
 * extra files rather than thrown, so the page shows it beside the runs that did load.
 */
export async function loadRunFiles(files: readonly TextSource[]): Promise<LoadedRun[]> {
  const loaded = await Promise.all(files.slice(0, MAX_RUNS).map(async (f) => loadRunText(f.name, await f.text())));
  for (const extra of files.slice(MAX_RUNS)) {
    loaded.push({
      ok: false,
      file: extra.name,
      message: `not opened: the viewer compares at most ${MAX_RUNS} runs at once. Open the two runs you want to compare.`,
      line: undefined,
    });
  }
  return loaded;
}
