import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { MITIGATION_ORDER_HELP, addMitigationOptions, pickMitigationFlags } from '../mitigation-options';
import { type RunSettings, SETTINGS_ENV } from '../run-script/hook';

/**
 * `gradguard run train.js [-- args]`: runs an unmodified tfjs training script in a child `node --import
 * gradguard/register` (the register entry built beside this file), so every optimizer it trains with is guarded.
 * The child's stdout, stdin and exit code are the script's own; gradguard writes only to stderr.
 */
export function registerRunScript(program: Command): void {
  addMitigationOptions(
    program
      .command('run')
      .description('Run an existing tfjs training script, unmodified, with every optimizer guarded: live diagnoses on stderr, a run log per model.')
      .argument('<script>', 'the training script (.js, .mjs or .cjs) — model.fit, fitDataset or a custom loop with optimizer.minimize')
      .argument('[args...]', "the script's own arguments, after --")
      .option('-o, --out <dir>', 'directory for the run logs (one JSONL file per model)', 'gradguard-runs'),
  )
    .option('--strict', "when the script exits 0, exit with gradguard's verdict instead: 1 failed or a problem unhandled, 3 handled, 0 healthy")
    .addHelpText(
      'after',
      `
Watch-only by default (nothing changes the training); the mitigation flags are those of train.
${MITIGATION_ORDER_HELP}
Exit code: the script's own, always when it is not 0 (gradguard never hides it). Without --strict it is the script's
whatever gradguard found; with --strict a script that exits 0 exits 1 when a run failed (non-finite weights or last
loss, a mitigation gave up) or a warning or critical problem went unhandled (every problem, when watching only), 3 when
problems were found and the mitigations held, 0 when healthy. 2: a usage error (no script, no tfjs beside it).
Without the command: node --import gradguard/register train.js (settings in GRADGUARD_RUN, see the README).

Examples:
  $ gradguard run train.js
  $ gradguard run train.js --clip-global-norm 1 -- --epochs 5
  $ gradguard run train.js --strict                  # CI: exit 1 on a critical diagnosis
  $ gradguard diagnose gradguard-runs/train-sequential_1.jsonl`,
    )
    .action(async (script: string, args: string[], opts: Record<string, unknown>) => {
      process.exitCode = await runScript(script, args, { out: String(opts.out), flags: pickMitigationFlags(opts), strict: opts.strict === true });
    });
}

export async function runScript(script: string, args: readonly string[], settings: RunSettings): Promise<number> {
  const path = resolve(script);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no script at ${JSON.stringify(script)}.`, 'Give the path of the training script, e.g. gradguard run train.js.');
  const register = fileURLToPath(new URL('./register.js', import.meta.url));
  const child = spawn(process.execPath, ['--import', register, path, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [SETTINGS_ENV]: JSON.stringify(settings) },
  });
  // Ctrl-C reaches the child through the terminal; the parent waits for it to end and report.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((done, fail) => {
      child.on('error', fail);
      child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}
