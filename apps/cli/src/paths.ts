import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './errors';

/** Creates the directory an output file goes into; a path that cannot hold one is a usage error (exit code 2). */
export function ensureParentDir(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}.`, 'Check that the directory exists and is writable.');
  }
}
