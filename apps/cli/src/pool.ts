import { availableParallelism } from 'node:os';
import type { BenchJob, BenchJobResult } from './bench-jobs';
import { RunFailedError } from './errors';

export interface RunJobsOptions {
  /** Worker processes; 1 runs every job here, one after another. */
  readonly workers: number;
  /** The backend this process activated (its name): workers activate the same one. */
  readonly backend: string;
  /** Called as each job finishes (in finishing order), with its index in `jobs`. */
  readonly onDone?: (index: number) => void;
  /** Called as a job starts, in the serial path only (a worker does not say when it picks a job up). */
  readonly onStart?: (index: number) => void;
}

/** Workers `bench` starts when `--workers` is not given: one per core, never more than there are jobs. */
export function defaultWorkers(jobs: number): number {
  return Math.max(1, Math.min(availableParallelism(), jobs));
}

/**
 * Runs independent bench jobs and returns their results in the order of `jobs`, whatever order they finish in. With
 * more than one worker they run in child processes from a tinypool pool (one tfjs engine and one backend per process,
 * so no job can disturb another's numbers); results cross back with structured clone, so NaN and Infinity stay as
 * they are. Each job is seeded and runs alone in its engine: the numbers equal a serial run's.
 */
export async function runJobs(jobs: readonly BenchJob[], o: RunJobsOptions): Promise<BenchJobResult[]> {
  const workers = Math.min(o.workers, jobs.length);
  if (workers <= 1) {
    const { runBenchJob } = await import('./bench-jobs');
    const results: BenchJobResult[] = [];
    for (const [i, job] of jobs.entries()) {
      o.onStart?.(i);
      results.push(await runBenchJob(job));
      o.onDone?.(i);
    }
    return results;
  }
  const { Tinypool } = await import('tinypool');
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const pool = new Tinypool({
    filename: new URL('./bench-worker.js', import.meta.url).href,
    runtime: 'child_process',
    minThreads: workers,
    maxThreads: workers,
    // Structured clone, not JSON: a diverged run's NaN metric must come back as NaN, not null.
    serialization: 'advanced',
    env,
  });
  try {
    return await Promise.all(
      jobs.map(async (job, i) => {
        try {
          const result = (await pool.run({ backend: o.backend, job })) as BenchJobResult;
          o.onDone?.(i);
          return result;
        } catch (e) {
          const err = e as { message?: string; stack?: string };
          throw new RunFailedError(`bench job ${job.kind === 'scenario' ? job.scenario : `${job.job.case} seed ${job.job.seed} ${job.job.arm}`} failed in a worker process: ${err.message ?? String(e)}`, { cause: e });
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
}
