import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './errors';

/**
 * Checks an output file before any work is done: creates the directory it goes into, and refuses a path that is a
 * directory or whose directory cannot be written — a usage error (exit code 2) now, not a failure after training.
 */
export function ensureParentDir(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}.`, 'Check that the directory exists and is writable.');
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // does not exist yet: it will be created
  }
  if (isDirectory) throw new UsageError(`cannot write ${path}: it is a directory.`, 'Give a file name, e.g. runs/report.html.');
}
