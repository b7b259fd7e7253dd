import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { BACKENDS, activateBackend } from './backend';
import { ACTIVATIONS, MODELS, OPTIMIZERS, TASKS } from './choices';
import { registerRunScript } from './commands/run-script';
import type { TrainOptions } from './commands/train';
import { EXIT } from './errors';
import { MITIGATION_ORDER_HELP, addMitigationOptions } from './mitigation-options';
import { byteSize, intAtLeast, positiveNumber } from './options';
import type { LogReadFlags } from './read-log';

// This file loads commander and plain lists only. Each command loads what it needs when it runs (`import()` inside its
// action): tfjs and the training packages only in the commands that train, the run-log validator and the reporter only
// in those that read logs. `gradguard --help` starts in about 0.1 s instead of loading all of tfjs first.

// The commands that read run logs (diagnose, report, compare) share these flags.
const SALVAGE_HELP = 'read the valid lines around bad ones (not JSON, invalid, a step out of order or repeated) and list what was skipped, instead of rejecting the log';
const MAX_LOG_BYTES_HELP = 'refuse a run log longer than this (e.g. 1GiB); default 256MiB';
const logFlags = (o: LogReadFlags): LogReadFlags => ({ salvage: !!o.salvage, ...(o.maxLogBytes !== undefined ? { maxLogBytes: o.maxLogBytes } : {}) });

const program = new Command();
program
  .name('gradguard')
  .description('Measure, detect, explain and fix exploding gradients in TensorFlow.js training.')
  .version((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .option('--debug', 'print stack traces for errors')
  .addOption(new Option('--backend <name>', 'tfjs backend: auto = best available (tfjs-node-gpu → tfjs-node → wasm → cpu); a named one fails instead of falling back; webgpu runs on Dawn (npm webgpu)').choices([...BACKENDS]).default('auto'))
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes:
  0  healthy; for train also "problems found and handled": a guarded run that completed with finite weights and loss
  1  problems found: a run failed (non-finite weights or loss, stopped early, a mitigation gave up, a crash while
     training), a problem went unhandled, or a log or model shows a warning or critical problem
  2  usage or input error (a bad flag; a run log that is not a regular file or pipe, is over --max-log-bytes, or has a
     bad line without --salvage; an unreadable model)
  3  train --strict, run --strict: problems found and handled (for CI that fails on any warning)
  run: the script's own exit code; with --strict a script that exits 0 gets the verdict above (1, 3 or 0)

Examples:
  $ gradguard demo                                   # unguarded vs clipped SimpleRNN, side by side
  $ gradguard train --recurrent-gain 1.5 --lr 0.1 --log run.jsonl --html run.html
  $ gradguard train --clip-global-norm 1 --log clipped.jsonl --tensorboard tb/
  $ gradguard diagnose run.jsonl                     # re-run the detectors over a saved run
  $ gradguard report run.jsonl -o report.html        # one self-contained HTML file
  $ gradguard compare run.jsonl clipped.jsonl        # did the mitigation help?
  $ gradguard doctor model.json --probe 3            # static checks of a saved tfjs model`,
  );

program
  .command('demo')
  .description('Train the same seeded SimpleRNN twice — unguarded (it explodes) and clipped — and compare.')
  .option('-o, --out <dir>', 'directory for the two run logs', 'runs')
  .option('--seed <n>', 'seed for weights and data', intAtLeast(0), 1)
  .option('--epochs <n>', 'epochs of 20 batches each', intAtLeast(1), 6)
  .option('--json', 'print the summary as JSON on stdout (no live view)')
  .option('-q, --quiet', 'only the summary')
  .addHelpText('after', '\nExamples:\n  $ gradguard demo\n  $ gradguard demo --seed 7 --epochs 5 -o /tmp/runs')
  .action(async (opts: { out: string; seed: number; epochs: number; json?: boolean; quiet?: boolean }) => {
    const backend = await activateBackend(program.opts().backend as string);
    const { demo } = await import('./commands/demo');
    process.exitCode = await demo({ out: opts.out, seed: opts.seed, epochs: opts.epochs, json: !!opts.json, quiet: !!opts.quiet }, backend);
  });

const trainCommand = program
  .command('train')
  .description('Train a model on a task with any optimizer and mitigation, watching every step; write logs and reports.')
  .addOption(new Option('--model <name>', 'model').choices([...MODELS]).default('simple-rnn'))
  .addOption(new Option('--task <name>', 'task').choices([...TASKS]).default('adding'))
  .option('--seq-len <T>', 'time steps per sequence (the delay for copy)', intAtLeast(2), 50)
  .option('--units <n>', 'hidden units per layer', intAtLeast(1), 32)
  .addOption(new Option('--activation <name>', 'recurrence / MLP hidden activation (default relu for simple-rnn and mlp, tanh for lstm/gru)').choices([...ACTIVATIONS]))
  .option('--recurrent-gain <g>', 'spectral radius of the orthogonal recurrent kernels', positiveNumber, 1)
  .option('--depth <n>', 'stacked recurrent layers (default 1) or MLP hidden layers (default 4)', intAtLeast(1))
  .option('--batch-norm', 'batch normalization after every recurrent or hidden layer')
  .option('--samples <n>', 'training sequences', intAtLeast(1), 640)
  .option('--epochs <n>', 'passes over the data', intAtLeast(1), 1)
  .option('--steps <n>', 'stop after this many optimizer steps (overrides --epochs)', intAtLeast(1))
  .option('--batch <n>', 'batch size', intAtLeast(1), 32)
  .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZERS]).default('sgd'))
  .option('--lr <rate>', 'learning rate', positiveNumber, 0.01);
addMitigationOptions(trainCommand)
  .option('--no-stop', 'keep training after the loss turns NaN (default: stop, the weights are lost)')
  .option('--strict', 'exit 3, not 0, when problems were found and the mitigations held (for CI that fails on any warning)')
  .option('--seed <n>', 'seed for weights and data', intAtLeast(0), 1)
  .option('--log <run.jsonl>', 'write the JSONL run log')
  .option('--html <report.html>', 'write the self-contained HTML report')
  .option('--tensorboard <dir>', 'write TensorBoard event files into this directory: scalars every step, per-layer gradient and weight histograms every --histogram-every steps')
  .option('--histogram-every <steps>', 'with --tensorboard: steps between per-layer histograms (step 0 is one)', intAtLeast(1), 10)
  .option('--json', 'print the result as JSON on stdout (no live view)')
  .option('-q, --quiet', 'only the summary')
  .addHelpText(
    'after',
    `
${MITIGATION_ORDER_HELP}
Exit code 0 when healthy, and when problems were found but the mitigations held (the run completed with finite weights
and loss; 3 with --strict); 1 when the run failed (non-finite, stopped, a mitigation gave up, a crash) or a problem
was found in an unguarded run; 2 for a usage error.

Examples:
  $ gradguard train --recurrent-gain 1.5 --lr 0.1 --steps 40 --log exploding.jsonl
  $ gradguard train --recurrent-gain 1.5 --lr 0.1 --steps 40 --clip-global-norm 1 --log clipped.jsonl --html clipped.html
  $ gradguard train --model lstm --optimizer adam --lr 0.003 --epochs 3 --tensorboard runs/tb
  $ gradguard train --model mlp --task two-spirals --depth 12 --activation tanh --skip-non-finite --lr-backoff --json`,
  )
  .action(async (opts: TrainOptions) => {
    const backend = await activateBackend(program.opts().backend as string);
    const { train } = await import('./commands/train');
    process.exitCode = await train(opts, backend);
  });

// `gradguard run train.js`: an unmodified script with every optimizer guarded (its own file; tfjs loads in the child).
registerRunScript(program);

program
  .command('diagnose')
  .description("Re-run gradguard's detectors over a saved run log and print the diagnoses with advice.")
  .argument('<run.jsonl>', 'a run log written by train, demo or createJsonlFileSink')
  .option('--json', 'print the diagnoses as JSON on stdout')
  .option('--salvage', SALVAGE_HELP)
  .option('--max-log-bytes <size>', MAX_LOG_BYTES_HELP, byteSize)
  .addHelpText('after', '\nExit code 1 when a warning or critical problem is found.\n\nExamples:\n  $ gradguard diagnose runs/demo-unguarded.jsonl\n  $ gradguard diagnose run.jsonl --json | jq .diagnoses')
  .action(async (path: string, opts: { json?: boolean } & LogReadFlags) => {
    const { diagnose } = await import('./commands/diagnose');
    process.exitCode = diagnose(path, { json: !!opts.json, ...logFlags(opts) });
  });

program
  .command('report')
  .description('Render a saved run as one self-contained HTML file (charts, diagnoses, advice; opens offline).')
  .argument('<run.jsonl>', 'a run log')
  .requiredOption('-o, --out <report.html>', 'where to write the HTML report')
  .option('--tensorboard <dir>', 'also write TensorBoard event files into this directory')
  .option('--salvage', SALVAGE_HELP)
  .option('--max-log-bytes <size>', MAX_LOG_BYTES_HELP, byteSize)
  .addHelpText('after', '\nExamples:\n  $ gradguard report run.jsonl -o report.html\n  $ gradguard report run.jsonl -o report.html --tensorboard tb/ && tensorboard --logdir tb/')
  .action(async (path: string, opts: { out: string; tensorboard?: string } & LogReadFlags) => {
    const { report } = await import('./commands/report');
    process.exitCode = report(path, { out: opts.out, ...(opts.tensorboard !== undefined ? { tensorboard: opts.tensorboard } : {}), ...logFlags(opts) });
  });

program
  .command('compare')
  .description('Two runs side by side: finite or not, first non-finite step, losses, norms, and where they diverged.')
  .argument('<a.jsonl>', 'the first run log (e.g. unguarded)')
  .argument('<b.jsonl>', 'the second run log (e.g. with a mitigation)')
  .option('--rtol <x>', 'relative difference at which two steps count as diverged', positiveNumber, 1e-3)
  .option('--json', 'print the comparison as JSON on stdout')
  .option('--salvage', SALVAGE_HELP)
  .option('--max-log-bytes <size>', MAX_LOG_BYTES_HELP, byteSize)
  .addHelpText('after', '\nExit code 1 when either run went non-finite or had a warning or critical problem.\n\nExamples:\n  $ gradguard compare runs/demo-unguarded.jsonl runs/demo-guarded.jsonl')
  .action(async (a: string, b: string, opts: { rtol: number; json?: boolean } & LogReadFlags) => {
    const { compare } = await import('./commands/compare');
    process.exitCode = compare(a, b, { rtol: opts.rtol, json: !!opts.json, ...logFlags(opts) });
  });

program
  .command('doctor')
  .description('Static checks of a saved tfjs LayersModel (model.json + weight files): recurrent spectral radius, depth without normalization, initial weight scales; optionally a probe of initial gradient norms.')
  .argument('<model.json>', 'a model saved with model.save(), weight shards beside it')
  .option('--probe [steps]', 'train this many SGD steps (default 3) on random data and show per-layer gradient norms', intAtLeast(1))
  .option('--seq-len <T>', 'time steps for a recurrent input of open length (probe)', intAtLeast(1), 20)
  .option('--seed <n>', 'seed of the probe data', intAtLeast(0), 1)
  .option('--json', 'print the findings as JSON on stdout')
  .addHelpText('after', '\nExit code 1 when a warning or critical problem is found.\n\nExamples:\n  $ gradguard doctor my-model/model.json\n  $ gradguard doctor my-model/model.json --probe 5 --json')
  .action(async (path: string, opts: { probe?: number | true; seqLen: number; seed: number; json?: boolean }) => {
    const backend = await activateBackend(program.opts().backend as string);
    const probe = opts.probe === true ? 3 : opts.probe;
    const { doctor } = await import('./commands/doctor');
    process.exitCode = await doctor(path, { ...(probe !== undefined ? { probe } : {}), seqLen: opts.seqLen, seed: opts.seed, json: !!opts.json }, backend);
  });

program
  .command('bench')
  .description('Run the scenario suite through detect → repair → verify and compare with AUTOTRAINER (ICSE 2021); --casebook scores the casebook of real cases against a random-fix baseline.')
  .option('--quick', 'the quick subset (for tests and a first look)')
  .option('--casebook', 'score the casebook of real cases (@gradguard/models CASEBOOK): detection, false alarms, time to diagnosis, autopilot vs random-fix repair, AUTOTRAINER where published; on cpu unless --backend names one (the ground truth was measured on cpu)')
  .option('--accepted-fixes', 'with --casebook: also retrain each broken run with each of its accepted fixes')
  .option('--only <names...>', 'only these scenarios (names as in @gradguard/models SCENARIOS), or with --casebook these cases')
  .option('--no-repair', 'detect only, no repair attempts')
  .option('--pascanu', 'also run the Pascanu et al. 2013 clipping experiment (adding problem, T = 50)')
  .option('--seeds <n>', 'seeds for --pascanu (default 5), or with --casebook seeds 1..n (default 3, at most 3)', intAtLeast(1))
  .option('--workers <n>', 'worker processes for the independent runs (default: one per core); 1 runs them in this process; results are identical either way', intAtLeast(1))
  .option('--json', 'print the results as JSON on stdout')
  .addHelpText(
    'after',
    '\nExit code 1 when detection is below 100 %, any healthy scenario raises an alarm, repair is below 98 %, or (--pascanu)\nclipping does not solve more seeds than no clipping (not judged with --quick).\n\nExamples:\n  $ gradguard bench --quick\n  $ gradguard bench --pascanu --json > bench.json\n  $ gradguard bench --workers 4\n  $ gradguard bench --only exploding-mlp-large-init healthy-mlp-spirals\n  $ gradguard bench --casebook --workers 2\n\nWith --casebook, exit code 1 when a broken run is not diagnosed (right family) within 5 steps of its symptom, a\nhealthy run raises a warning, or the autopilot repairs no more runs than the random-fix baseline.',
  )
  .action(async (opts: { quick?: boolean; casebook?: boolean; acceptedFixes?: boolean; only?: string[]; repair: boolean; pascanu?: boolean; seeds?: number; workers?: number; json?: boolean }) => {
    const choice = program.opts().backend as string;
    // The casebook's ground truth (which seeds fail, at which step) was measured on cpu: score it there by default.
    const backend = await activateBackend(opts.casebook && choice === 'auto' ? 'cpu' : choice);
    if (opts.casebook) {
      const { benchCasebook } = await import('./commands/bench-casebook');
      process.exitCode = await benchCasebook(
        {
          json: !!opts.json,
          acceptedFixes: !!opts.acceptedFixes,
          ...(opts.only ? { only: opts.only } : {}),
          ...(opts.seeds !== undefined ? { seeds: opts.seeds } : {}),
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        },
        backend,
      );
      return;
    }
    const { bench } = await import('./commands/bench');
    process.exitCode = await bench(
      {
        quick: !!opts.quick,
        json: !!opts.json,
        ...(opts.only ? { only: opts.only } : {}),
        repair: opts.repair,
        pascanu: !!opts.pascanu,
        pascanuSeeds: opts.seeds ?? 5,
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      },
      backend,
    );
  });

// `gradguard diagnose run.jsonl | head` closes stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.healthy;
      return;
    }
    const { describeFailure, escapeStack } = await import('./describe-failure');
    const { line, code: exit } = describeFailure(e);
    if (line) process.stderr.write(`${line}\n`);
    if (program.opts().debug && e instanceof Error && e.stack) process.stderr.write(`${escapeStack(e.stack)}\n`);
    process.exitCode = exit;
  }
}

await main();
