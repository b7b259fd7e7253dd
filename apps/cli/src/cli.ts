import { Command, Option } from 'commander';
import { BACKENDS, activateBackend } from './backend';
import { demo } from './commands/demo';
import { EXIT, describeFailure } from './errors';
import { intAtLeast } from './options';

const program = new Command();
program
  .name('gradguard')
  .description('Measure, detect, explain and fix exploding gradients in TensorFlow.js training.')
  .version('0.1.0')
  .option('--debug', 'print stack traces for errors')
  .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('auto'))
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: 0 healthy · 1 problems found · 2 usage or input error.

Examples:
  $ gradguard demo                 # unguarded vs clipped SimpleRNN, side by side
  $ gradguard demo --json          # the same, as JSON on stdout`,
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
    process.exitCode = await demo({ out: opts.out, seed: opts.seed, epochs: opts.epochs, json: !!opts.json, quiet: !!opts.quiet }, backend);
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.healthy;
      return;
    }
    const { line, code: exit } = describeFailure(e);
    if (line) process.stderr.write(`${line}\n`);
    if (program.opts().debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = exit;
  }
}

await main();
