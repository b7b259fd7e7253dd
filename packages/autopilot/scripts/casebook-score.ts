/**
 * Scores the casebook: every (case, seed, arm) job run in turn on the cpu backend, then the table.
 *   node --conditions=@gradguard/source --import tsx scripts/casebook-score.ts [case-name-part ...]
 * Jobs are plain data (casebookJobs) and runCaseJob is self-contained, so a worker pool can run them instead.
 */
import * as tf from '@tensorflow/tfjs';
import { casebookJobs, runCaseJob, scoreCasebook } from '../src/index';
import { CASEBOOK } from '../../models/src/index';

await tf.setBackend('cpu');
const only = process.argv.slice(2);
const cases = CASEBOOK.filter((c) => only.length === 0 || only.some((o) => c.name.includes(o))).map((c) => c.name);
const results = [];
for (const job of casebookJobs({ cases })) {
  const r = await runCaseJob(job);
  results.push(r);
  console.error(JSON.stringify({ ...r, durationMs: Math.round(r.durationMs) }));
}
const s = scoreCasebook(results);
const pct = (n: number, d: number): string => (d === 0 ? '—' : `${n}/${d}`);
console.log('| case | family | detected (≤ 5 steps) | delay | false alarms | autopilot repair | random-fix repair | AUTOTRAINER |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of s.rows) {
  const broken = r.family !== 'healthy';
  console.log(
    `| ${r.case} | ${r.family} | ${broken ? pct(r.detected, r.broken) : ''} | ${r.meanDelay === null ? '' : r.meanDelay.toFixed(1)} | ${broken ? '' : pct(r.falseAlarms, r.healthy)} | ${broken ? `${pct(r.autopilotRepaired, r.broken)} (${[...new Set(r.autopilotRepairs.map((x) => x ?? 'none'))].join(', ')})` : ''} | ${broken ? pct(r.randomRepaired, r.broken) : ''} | ${r.autotrainer ?? ''} |`,
  );
}
console.log(
  `\ndetection ${(100 * s.detectionRate).toFixed(0)} % of ${s.brokenRuns} broken runs, false alarms ${(100 * s.falseAlarmRate).toFixed(0)} % of ${s.healthyRuns} healthy runs, mean delay ${s.meanDelay?.toFixed(1) ?? '—'} steps, repair: autopilot ${(100 * s.autopilotRepairRate).toFixed(0)} %, random fix ${(100 * s.randomRepairRate).toFixed(0)} %`,
);
