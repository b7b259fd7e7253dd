import type { Command } from 'commander';
import type { MitigationFlags } from './mitigation-flags';
import { intAtLeast, numberAtLeast, numberBetween, positiveNumber } from './options';

/** How the mitigation flags combine, for the help of every command that takes them. */
export const MITIGATION_ORDER_HELP = `Mitigations combine in a fixed order: skip-non-finite → skip-on-spike → spike-clip → clip-value → clip-norm →
adaptive-clip → ada-gc → z-clip → auto-clip → clip-layer-norm → clip-global-norm → weight-decay; the learning-rate
policies and rollback act in the optimizer.`;

/**
 * The mitigation flags, defined once for every command that guards training (`train`, `run`); commander only, no
 * tfjs. `buildMitigations` turns the parsed flags into one chain.
 */
export function addMitigationOptions(command: Command): Command {
  return command
    .option('--clip-global-norm <n>', 'mitigation: clipByGlobalNorm(n), the global L2 norm of all gradients', positiveNumber)
    .option('--clip-norm <n>', 'mitigation: clipByNorm(n), each gradient tensor to L2 norm n', positiveNumber)
    .option('--clip-value <v>', 'mitigation: clipByValue(v), each entry to [-v, v]', positiveNumber)
    .option('--adaptive-clip <lambda>', 'mitigation: adaptiveGradClip(lambda), unit-wise ‖g‖/‖w‖ bound (AGC)', positiveNumber)
    .option('--auto-clip [percentile]', 'mitigation: autoClip, clip to a percentile of past norms (default 10)', numberBetween(0, 100))
    .option('--z-clip [z]', 'mitigation: zClip, clip norm spikes by z-score (default 2.5)', positiveNumber)
    .option('--spike-clip [theta]', 'mitigation: spikeClip, clip coordinates with g² above theta (default 5000) × their running second moment', positiveNumber)
    .option('--skip-non-finite', 'mitigation: skipNonFinite, skip updates with NaN/Infinity gradients')
    .option('--skip-on-spike [sigma]', 'mitigation: skipOnSpike, skip steps whose loss or gradient norm is sigma (default 6) std devs above the last 128 (OLMo-core)', positiveNumber)
    .option('--ada-gc', 'mitigation: adaGC, per-tensor adaptive clipping against each tensor\'s own norm history (AdaGC 2025)')
    .option('--clip-layer-norm <n>', 'mitigation: clipByGroupedGlobalNorm(n) grouped by layer: each layer\'s gradients to L2 norm n (no clip starvation)', positiveNumber)
    .option('--weight-decay <rate>', 'mitigation: decoupledWeightDecay(rate), AdamW-style', numberAtLeast(0))
    .option('--lr-backoff [factor]', 'mitigation: multiply the LR by factor (default 0.5) on each diagnosed explosion', numberBetween(0, 1))
    .option('--lr-warmup <steps>', 'mitigation: linear learning-rate warm-up over this many steps', intAtLeast(1))
    .option('--rollback', 'mitigation: restore the last good weights when training diverges, at a lower LR');
}

const KEYS: readonly (keyof MitigationFlags)[] = [
  'skipNonFinite', 'skipOnSpike', 'spikeClip', 'clipValue', 'clipNorm', 'adaptiveClip', 'adaGc', 'zClip', 'autoClip', 'clipLayerNorm', 'clipGlobalNorm',
  'weightDecay', 'lrBackoff', 'lrWarmup', 'rollback',
];

/** The mitigation flags among a command's parsed options (plain JSON: numbers and booleans). */
export function pickMitigationFlags(options: Record<string, unknown>): MitigationFlags {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (options[k] !== undefined) out[k] = options[k];
  return out as MitigationFlags;
}
