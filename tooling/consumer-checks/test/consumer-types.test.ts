import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CANARY, type ConsumerCheck, NODE_ONLY_ENTRIES, checkConsumerTypes, publishedEntries } from '../src/consumer-types';

/**
 * TensorFlow.js 4.22's own declarations fail a strict check without skipLibCheck (a bare `import * as tf from
 * '@tensorflow/tfjs'` gets 17 errors: `Long` undeclared in hash_util.d.ts, index signatures in tfjs-layers' keras_format,
 * LayersModel vs InferenceModel). They are tfjs's, not ours; everything else must be clean.
 */
const isTfjs = (file: string): boolean => /\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?@tensorflow\//.test(file);

describe('types: a strict consumer without skipLibCheck (TypeScript 5.9)', () => {
  const { typed: entries, untyped } = publishedEntries();
  let checks: ConsumerCheck[];
  beforeAll(async () => {
    checks = await checkConsumerTypes(entries);
  });

  it('covers every published entry point, and every library entry declares types', () => {
    for (const e of ['@gradguard/core', '@gradguard/core/run-log', '@gradguard/mitigations', '@gradguard/reporter', '@gradguard/models']) {
      expect(entries).toContain(e);
    }
    for (const e of NODE_ONLY_ENTRIES) expect(entries).toContain(e);
    expect(untyped.filter((e) => e.startsWith('@gradguard/'))).toEqual([]);
    // A consumer program resolves packages through this package's node_modules (and turbo builds only what it
    // depends on): a package with typed entries that is not a devDependency here must be added to package.json.
    const own = Object.keys((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: object }).devDependencies);
    const packageOf = (e: string): string => e.split('/').slice(0, e.startsWith('@') ? 2 : 1).join('/');
    expect([...new Set(entries.map(packageOf))].filter((p) => !own.includes(p))).toEqual([]);
  });

  it('checks the libraries’ declarations for real: the canary’s TS1170 is reported in every program', () => {
    for (const { name, errors } of checks) {
      const canary = errors.filter((e) => e.file.includes(`/${CANARY}/`));
      expect(canary.map((e) => e.code), name).toEqual(['TS1170']); // one file, checked once per program
    }
  });

  it('finds no error in any gradguard declaration (.d.ts and .d.cts), node16 and bundler resolution', () => {
    for (const { name, errors } of checks) {
      const ours = errors.filter((e) => !isTfjs(e.file) && !e.file.includes(`/${CANARY}/`));
      expect(ours.map((e) => `${name}: ${e.file}: ${e.code} ${e.message}`)).toEqual([]);
      // The programs really resolved the packages: an unresolved import would be an error above, and tfjs's own
      // declarations were loaded through them.
      expect(errors.some((e) => isTfjs(e.file)), name).toBe(true);
    }
  });
});
