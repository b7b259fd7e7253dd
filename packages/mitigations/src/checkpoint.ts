import * as tf from '@tensorflow/tfjs-core';
import { createMonitor } from '@gradguard/core';
import type { GuardOptions } from './guard-types';

/**
 * What a guarded optimizer writes into its inner optimizer's config (`getConfig().gradguard`) when a model is saved
 * with `includeOptimizer: true`: the guard's plain settings. The class recorded stays the inner one (`Adam`), so a
 * process without gradguard reloads the plain optimizer (tfjs' `fromConfig` reads only the keys it knows); with
 * gradguard loaded the same checkpoint reloads guarded, with these settings.
 */
export interface GuardCheckpoint {
  readonly version: 1;
  /** A monitor was watching: the reloaded guard gets a fresh one with the default detectors (no history). */
  readonly monitor: boolean;
  readonly print?: 'none' | 'critical' | 'warning';
  readonly statsEvery?: number;
  readonly clipnorm?: number;
  readonly clipvalue?: number;
  readonly globalClipnorm?: number;
  readonly recurrent?: boolean | { readonly every?: number; readonly squarings?: number };
  readonly kernel?: 'auto' | 'device';
  /** The transformation's name, recorded only: a transformation is code, not data, and is not rebuilt on reload. */
  readonly transform?: string;
  /** Recorded only, not rebuilt: learning-rate control and rollback hold closures and snapshots. */
  readonly learningRate?: boolean;
  readonly rollback?: boolean;
}

/** The checkpoint record of a guard built with `options` (plain data: numbers, booleans, short names). */
export function checkpointOf(options: GuardOptions): GuardCheckpoint {
  const o = options;
  return {
    version: 1,
    monitor: o.monitor !== undefined,
    ...(o.print !== undefined ? { print: o.print } : {}),
    ...(o.statsEvery !== undefined ? { statsEvery: o.statsEvery } : {}),
    ...(o.clipnorm !== undefined ? { clipnorm: o.clipnorm } : {}),
    ...(o.clipvalue !== undefined ? { clipvalue: o.clipvalue } : {}),
    ...(o.globalClipnorm !== undefined ? { globalClipnorm: o.globalClipnorm } : {}),
    ...(o.recurrent !== undefined && o.recurrent !== false ? { recurrent: o.recurrent === true ? true : { ...o.recurrent } } : {}),
    ...(o.kernel !== undefined ? { kernel: o.kernel } : {}),
    ...(o.transform !== undefined ? { transform: o.transform.name } : {}),
    ...(o.learningRate !== undefined ? { learningRate: true } : {}),
    ...(o.rollback !== undefined && o.rollback !== false ? { rollback: true } : {}),
  };
}

/** The guard options a checkpoint record restores (what is data), dropping anything malformed rather than failing the load. */
export function optionsFromCheckpoint(c: GuardCheckpoint, monitor: () => NonNullable<GuardOptions['monitor']>): GuardOptions {
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  const rec = c.recurrent;
  return {
    ...(c.monitor === true ? { monitor: monitor() } : {}),
    ...(c.print === 'none' || c.print === 'critical' || c.print === 'warning' ? { print: c.print } : {}),
    ...(num(c.statsEvery) && Number.isInteger(c.statsEvery) ? { statsEvery: c.statsEvery } : {}),
    ...(num(c.clipnorm) ? { clipnorm: c.clipnorm } : num(c.clipvalue) ? { clipvalue: c.clipvalue } : num(c.globalClipnorm) ? { globalClipnorm: c.globalClipnorm } : {}),
    ...(rec === true ? { recurrent: true } : typeof rec === 'object' && rec !== null ? { recurrent: { ...(num(rec.every) ? { every: rec.every } : {}), ...(num(rec.squarings) ? { squarings: rec.squarings } : {}) } } : {}),
    ...(c.kernel === 'auto' || c.kernel === 'device' ? { kernel: c.kernel } : {}),
  };
}

/** What the restored guard could not bring back (named in the warning printed on reload), or empty. */
export function notRestored(c: GuardCheckpoint): string[] {
  const lost: string[] = [];
  if (typeof c.transform === 'string') lost.push(`transform ${c.transform}`);
  if (c.learningRate === true) lost.push('learning-rate control');
  if (c.rollback === true) lost.push('rollback');
  return lost;
}

type FromConfig = (cls: unknown, config: tf.serialization.ConfigDict, ...rest: unknown[]) => tf.serialization.Serializable;
const RESTORING = Symbol.for('gradguard.restoreGuard');
const restored = new WeakSet<object>();

/** Whether `optimizer` is a guard rebuilt from a checkpoint (so `guardModel(model, options)` may replace it). */
export function isRestoredGuard(optimizer: object): boolean {
  return restored.has(optimizer);
}

/**
 * Makes `tf.loadLayersModel` restore the guard of a checkpoint saved while guarded: every optimizer class registered
 * with tfjs (`Adam`, `SGD`..., and custom ones registered before this runs) gets a `fromConfig` that builds the plain
 * optimizer as tfjs does and, when its config carries a `gradguard` record, wraps it with `make` and the record's
 * options (a fresh monitor when one was watching). What a record cannot rebuild is named once on `console.warn`.
 * Idempotent; called when gradguard's guard module loads.
 */
export function installGuardRestore(make: (inner: tf.Optimizer, options: GuardOptions) => tf.Optimizer): void {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, [unknown, FromConfig]>;
  for (const [name, entry] of Object.entries(map)) {
    const [cls, fromConfig] = entry;
    const proto = (cls as { prototype?: unknown }).prototype;
    if (!(proto instanceof tf.Optimizer) || (fromConfig as { [RESTORING]?: boolean })[RESTORING]) continue;
    const restoring: FromConfig = (c, config, ...rest) => {
      const { gradguard, ...plain } = config as tf.serialization.ConfigDict & { gradguard?: unknown };
      const inner = fromConfig(c, plain, ...rest) as tf.Optimizer;
      if (!isCheckpoint(gradguard)) return inner;
      const guarded = make(inner, optionsFromCheckpoint(gradguard, createMonitor));
      restored.add(guarded);
      const lost = notRestored(gradguard);
      if (lost.length > 0) {
        console.warn(
          `gradguard: this ${name} checkpoint reloads guarded, without its ${lost.join(', ')} (code, not data, is not saved). ` +
            'Pass them again: guardModel(model, { transform, ... }) re-guards the reloaded optimizer, its slots kept.',
        );
      }
      return guarded;
    };
    (restoring as { [RESTORING]?: boolean })[RESTORING] = true;
    map[name] = [cls, restoring];
  }
}

function isCheckpoint(v: unknown): v is GuardCheckpoint {
  return typeof v === 'object' && v !== null && (v as { version?: unknown }).version === 1;
}
