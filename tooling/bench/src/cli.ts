/**
 * `npm run bench`: gradguard's training-step cost as ratios to a bare step, per backend, per model.
 * The parent process runs one child per backend (so each process holds exactly one backend) and prints the report;
 * a child (hidden `--child <file>`) measures and writes its results as JSON to that file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CONFIG_NAMES, type ConfigName, checkConfigName } from './configs';
import { type BackendResult, activateBackend, measureBackend } from './measure';
import { MODELS, getModel } from './models';
import { type BenchReport, machine, reportMarkdown } from './report';
import { type SoakResult, SETTLED_AFTER, soak } from './soak';

export const BACKENDS = ['cpu', 'wasm'] as const;
export const QUICK_ROUNDS = 2;
export const QUICK_STEPS = 8;

export interface CliOptions {
  backend: string[];
  models: string[];
  configs: ConfigName[];
  rounds: number;
  steps?: number;
  json?: string;
  markdown?: string;
  quick?: boolean;
  soak?: number;
  child?: string;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s !== '');

function positiveInt(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}.`);
    return n;
  };
}

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

/** Child: one backend, in this process. */
async function child(o: CliOptions): Promise<void> {
  const backend = o.backend[0]!;
  await activateBackend(backend);
  let result: BackendResult | SoakResult;
  if (o.soak !== undefined) {
    result = await soak(backend, o.soak, { log: progress });
  } else {
    result = await measureBackend({
      backend,
      models: o.models.map(getModel),
      configs: o.configs,
      rounds: o.quick ? QUICK_ROUNDS : o.rounds,
      ...(o.steps !== undefined ? { steps: o.steps } : o.quick ? { steps: QUICK_STEPS } : {}),
      log: progress,
    });
  }
  writeFileSync(o.child!, JSON.stringify(result));
}

/** Parent: one child process per backend, then the report. */
function parent(o: CliOptions): BenchReport {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-bench-run-'));
  const startedAt = new Date().toISOString();
  const backends: BackendResult[] = [];
  const soaks: SoakResult[] = [];
  try {
    for (const backend of o.backend) {
      const out = join(dir, `${backend}.json`);
      const args = [
        ...process.execArgv,
        process.argv[1]!,
        '--child', out,
        '--backend', backend,
        '--models', o.models.join(','),
        '--configs', o.configs.join(','),
        '--rounds', String(o.rounds),
        ...(o.steps !== undefined ? ['--steps', String(o.steps)] : []),
        ...(o.quick ? ['--quick'] : []),
        ...(o.soak !== undefined ? ['--soak', String(o.soak)] : []),
      ];
      const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw new Error(`the ${backend} measurement failed (exit ${r.status ?? r.signal}); see its output above.`);
      const result = JSON.parse(readFileSync(out, 'utf8')) as BackendResult | SoakResult;
      if (o.soak !== undefined) soaks.push(result as SoakResult);
      else backends.push(result as BackendResult);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    machine: machine(),
    startedAt,
    rounds: o.quick ? QUICK_ROUNDS : o.rounds,
    quick: o.quick === true,
    backends,
    ...(soaks.length > 0 ? { soak: soaks } : {}),
  };
}

export function createProgram(): Command {
  return new Command('bench')
    .description("gradguard's training-step cost as ratios to a bare step (interleaved, one process per backend)")
    .option('--backend <list>', `backends, comma-separated (${BACKENDS.join(', ')})`, list, [...BACKENDS])
    .option('--models <list>', `models, comma-separated (${MODELS.map((m) => m.id).join(', ')})`, list, MODELS.map((m) => m.id))
    .option('--configs <list>', `configurations, comma-separated (${CONFIG_NAMES.join(', ')}); bare always runs`, (v) => list(v).map(checkConfigName), [...CONFIG_NAMES])
    .option('--rounds <n>', 'measured rounds per model (15: the median\'s 95 % interval runs from the 4th to the 12th ratio)', positiveInt('--rounds'), 15)
    .option('--steps <n>', 'steps per run (default: calibrated per model so a bare run takes about 1 s)', positiveInt('--steps', 3))
    .option('--json <file>', 'write every result, with every round\'s raw numbers, as JSON')
    .option('--markdown <file>', 'write the report as Markdown')
    .option('--quick', `${QUICK_ROUNDS} rounds of ${QUICK_STEPS} steps: shows the harness works, measures nothing you should trust`)
    .option('--soak <steps>', `instead of timing: that many guarded steps of the spirals MLP with NaN/Inf injected, checking tensor growth and the run log (> ${SETTLED_AFTER})`, positiveInt('--soak', SETTLED_AFTER + 1))
    .addOption(new Option('--child <file>', 'internal: measure one backend in this process and write the result here').hideHelp())
    .action(async (o: CliOptions) => {
      for (const b of o.backend) {
        if (!(BACKENDS as readonly string[]).includes(b)) throw new InvalidArgumentError(`unknown backend ${JSON.stringify(b)}; choose from ${BACKENDS.join(', ')}.`);
      }
      for (const m of o.models) getModel(m);
      if (o.child !== undefined) return child(o);
      const report = parent(o);
      const markdown = reportMarkdown(report);
      process.stdout.write(`${markdown}\n`);
      if (o.markdown) writeFileSync(o.markdown, `${markdown}\n`);
      if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
      if (report.soak?.some((s) => !s.ok)) process.exitCode = 1;
    });
}

createProgram()
  .parseAsync()
  .catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
