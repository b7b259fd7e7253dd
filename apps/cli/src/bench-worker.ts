// A worker process of `gradguard bench --workers N` (tinypool, child_process runtime): it activates the backend the
// parent resolved, once, then runs the jobs it is sent, one at a time.
import { activateBackend } from './backend';
import { type BenchJob, type BenchJobResult, runBenchJob } from './bench-jobs';

export interface WorkerTask {
  /** The backend the parent runs on (its resolved name, e.g. `wasm`, never `auto`): every worker uses the same. */
  readonly backend: string;
  readonly job: BenchJob;
}

// The parent's stdout carries `--json`; a worker's stdout is piped into it. Whatever a job prints goes to stderr.
console.log = console.error;
console.info = console.error;

let active: Promise<unknown> | undefined;

export default async function work(task: WorkerTask): Promise<BenchJobResult> {
  active ??= activateBackend(task.backend);
  await active;
  return runBenchJob(task.job);
}
