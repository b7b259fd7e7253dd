import { type CaseJobResult, type CasebookScore, casebookJobs, scoreCasebook } from '@gradguard/autopilot';
import { formatNumber as fmt } from '@gradguard/core';
import { CASEBOOK } from '@gradguard/models';
import { table } from '@gradguard/reporter';
import type { BackendReport } from '../backend';
import { type BenchJob, jobLabel } from '../bench-jobs';
import { UsageError } from '../errors';
import { defaultWorkers, runJobs } from '../pool';

export interface CasebookBenchOptions {
  readonly json: boolean;
  /** Case names (exact, as in @gradguard/models CASEBOOK); all when absent. */
  readonly only?: readonly string[];
  /** Seeds 1..seeds (the ground truth holds seeds 1–3). Default 3. */
  readonly seeds?: number;
  /** Also retrain every broken case with each of its accepted fixes. */
  readonly acceptedFixes: boolean;
  /** Worker processes; default one per core. */
  readonly workers?: number;
}

/** What `bench --casebook --json` prints. */
export interface CasebookBenchReport {
  readonly backend: string;
  readonly suite: 'casebook';
  readonly workers: number;
  readonly seeds: readonly number[];
  readonly score: CasebookScore;
  /** Every job's result, in job order (case, seed, arm). */
  readonly results: readonly CaseJobResult[];
  /** Broken (case, seed) pairs whose accepted fixes were run: how many of them reached the criterion. */
  readonly acceptedFixes: { readonly runs: number; readonly passed: number } | null;
  readonly seconds: number;
}

const SEEDS_WITH_TRUTH = 3;

/**
 * `gradguard bench --casebook`: scores gradguard on the casebook of real cases (@gradguard/models `CASEBOOK`) as the
 * field now scores repair tools (ICST'23: against a random-fix baseline, several seeds, several accepted fixes):
 * detection (a serious diagnosis of the right family within 5 steps of the symptom), false alarms on healthy runs,
 * time to the first right diagnosis, and the repair rates of the autopilot and of a repair drawn at random from the
 * same list, next to AUTOTRAINER's published verdict where there is one. Every (case, seed, arm) is an independent,
 * seeded job, run in worker processes with `--workers`: the results are the same, number for number.
 * Exit 0 when every broken run is detected in time, no healthy run raises a warning and the autopilot repairs more
 * runs than the random fix; 1 otherwise.
 */
export async function benchCasebook(o: CasebookBenchOptions, backend: BackendReport): Promise<number> {
  const started = performance.now();
  const names = CASEBOOK.map((c) => c.name);
  for (const n of o.only ?? []) {
    if (!names.includes(n)) throw new UsageError(`no casebook case named ${JSON.stringify(n)}.`, `Cases: ${names.join(', ')}.`);
  }
  const n = o.seeds ?? SEEDS_WITH_TRUTH;
  if (n > SEEDS_WITH_TRUTH) {
    throw new UsageError(`--seeds ${n}: the casebook's ground truth is measured on seeds 1–${SEEDS_WITH_TRUTH} only.`, `Use --seeds 1 to ${SEEDS_WITH_TRUTH}.`);
  }
  const seeds = Array.from({ length: n }, (_, i) => i + 1);
  const caseJobs = casebookJobs({ ...(o.only?.length ? { cases: o.only } : {}), seeds, acceptedFixes: o.acceptedFixes });
  const jobs: BenchJob[] = caseJobs.map((job) => ({ kind: 'casebook', job }));
  const workers = Math.min(o.workers ?? defaultWorkers(jobs.length), jobs.length);
  let done = 0;
  const results = (await runJobs(jobs, {
    workers,
    backend: backend.name,
    onDone: (i) => {
      done++;
      if (!o.json) process.stderr.write(`  [${done}/${jobs.length}] ${jobLabel(jobs[i]!)}\n`);
    },
  })) as CaseJobResult[];
  const score = scoreCasebook(results);
  const fixes = results.filter((r) => r.arm === 'accepted-fix');
  const report: CasebookBenchReport = {
    backend: backend.name,
    suite: 'casebook',
    workers,
    seeds,
    score,
    results,
    acceptedFixes: o.acceptedFixes ? { runs: fixes.length, passed: fixes.filter((r) => r.passed).length } : null,
    seconds: (performance.now() - started) / 1000,
  };
  const met =
    score.detectionRate === 1 && score.falseAlarmRate === 0 && (score.brokenRuns === 0 || score.autopilotRepairRate > score.randomRepairRate);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatCasebook(report)}\n`);
  }
  return met ? 0 : 1;
}

// The random-fix count is an expectation (every applicable repair run): fractional, shown to one decimal.
const frac = (n: number, d: number): string => (d === 0 ? '—' : `${Number.isInteger(n) ? n : n.toFixed(1)}/${d}`);
const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;

/** The per-case table and the totals side by side with the random-fix baseline and AUTOTRAINER. */
export function formatCasebook(r: CasebookBenchReport): string {
  const s = r.score;
  const rows = s.rows.map((row) => {
    const broken = row.family !== 'healthy';
    const repairs = [...new Set(row.autopilotRepairs.map((x) => x ?? 'none'))].join(', ');
    return [
      row.case,
      row.family,
      broken ? frac(row.detected, row.broken) : '',
      row.meanDelay === null ? '' : row.meanDelay.toFixed(1),
      broken ? '' : frac(row.falseAlarms, row.healthy),
      broken ? `${frac(row.autopilotRepaired, row.broken)}${repairs ? ` (${repairs})` : ''}` : '',
      broken ? frac(row.randomRepaired, row.broken) : '',
      row.autotrainer ?? '',
    ];
  });
  const lines = [
    table(['case', 'family', 'detected ≤ 5 steps', 'delay', 'false alarms', 'autopilot repair', 'random-fix repair', 'AUTOTRAINER (published)'], rows),
    '',
    table(
      ['', 'gradguard', 'random-fix baseline', 'AUTOTRAINER (ICSE 2021)'],
      [
        ['runs', `${s.brokenRuns} broken, ${s.healthyRuns} healthy (seeds ${r.seeds.join(', ')})`, 'same broken runs', '495 Keras models, own benchmark'],
        ['detection, right family ≤ 5 steps after the symptom', pct(s.detectionRate), '—', '100 % (own benchmark)'],
        ['false alarms on healthy runs', pct(s.falseAlarmRate), '—', '0 % (own benchmark)'],
        ['mean steps from symptom to right diagnosis', s.meanDelay === null ? '—' : s.meanDelay.toFixed(1), '—', '—'],
        ['repair rate (criterion reached after one repair; random fix: expectation over every applicable repair)', pct(s.autopilotRepairRate), pct(s.randomRepairRate), '97.8 % (own benchmark)'],
        ...(r.acceptedFixes ? [['accepted fixes reaching the criterion', frac(r.acceptedFixes.passed, r.acceptedFixes.runs), '', '']] : []),
        ['time', `${fmt(r.seconds)} s on ${r.backend}, ${r.workers} worker${r.workers === 1 ? '' : 's'}`, '', ''],
      ],
    ),
  ];
  return lines.join('\n');
}
