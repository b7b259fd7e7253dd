import { beforeAll, describe, expect, it } from 'vitest';
import { type Bundle, type ModuleBytes, addedBytes, esbuildBundle, modulesOf, viteBundle } from '../src/bundle';

/**
 * Issue 14's budget: `guard` + `createMonitor` may add at most 60 KB (60 × 1024 bytes) of minified code to a
 * production browser build of a bare tfjs app. Before the validator left core's root entry, zod alone added ~95 KB
 * (Vite) and ~450 KB (esbuild, which keeps all of `z`).
 */
const BUDGET_BYTES = 60 * 1024;

const ENTRIES = {
  bare: 'entries/tfjs-only.ts',
  guarded: 'entries/guard-and-monitor.ts',
  reader: 'entries/read-run-log.ts',
} as const;

const fromDist = (b: Bundle, pkg: string): string[] => b.modules.filter((m) => m.replaceAll('\\', '/').includes(`/packages/${pkg}/`));

describe('browser bundle: what guard + createMonitor add to a bare tfjs app', () => {
  describe('Vite (production build, minified)', () => {
    let bare: Bundle;
    let guarded: Bundle;
    let reader: Bundle;
    beforeAll(async () => {
      bare = await viteBundle(ENTRIES.bare);
      guarded = await viteBundle(ENTRIES.guarded);
      reader = await viteBundle(ENTRIES.reader);
      console.log(`vite: bare tfjs ${bare.bytes} B, + guard + createMonitor ${guarded.bytes} B (+${guarded.bytes - bare.bytes} B)`);
    });

    it('measures the published dist, not the sources', () => {
      for (const pkg of ['core', 'mitigations']) {
        const mods = fromDist(guarded, pkg);
        expect(mods.length, `@gradguard/${pkg} in the bundle`).toBeGreaterThan(0);
        expect(mods.every((m) => m.includes(`/packages/${pkg}/dist/`)), mods.join('\n')).toBe(true);
      }
      // The baseline really is tfjs: hundreds of its modules, ~0.8 MB minified, and nothing of gradguard.
      expect(bare.bytes).toBeGreaterThan(500_000);
      expect(bare.modules.filter((m) => m.includes('/packages/'))).toEqual([]);
    });

    it(`adds at most ${BUDGET_BYTES} bytes`, () => {
      expect(guarded.bytes - bare.bytes).toBeGreaterThan(10_000); // guard is really in there
      expect(guarded.bytes - bare.bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    });

    it('carries no zod, while a page that reads run logs does', () => {
      expect(modulesOf(guarded, 'zod')).toEqual([]);
      expect(guarded.modules.some((m) => m.includes('/packages/core/dist/run-log.js'))).toBe(false);
      // The detector can fail: the reader's bundle has zod's modules (the validator is where logs are read).
      expect(modulesOf(reader, 'zod').length).toBeGreaterThan(10);
      expect(reader.modules.filter((m) => m.includes('@tensorflow'))).toEqual([]);
    });
  });

  describe('esbuild (bundle, minify, browser)', () => {
    let bare: Bundle & { byModule: readonly ModuleBytes[] };
    let guarded: Bundle & { byModule: readonly ModuleBytes[] };
    beforeAll(async () => {
      bare = await esbuildBundle(ENTRIES.bare);
      guarded = await esbuildBundle(ENTRIES.guarded);
      console.log(`esbuild: bare tfjs ${bare.bytes} B, + guard + createMonitor ${guarded.bytes} B (+${guarded.bytes - bare.bytes} B)`);
      console.log(addedBytes(bare.byModule, guarded.byModule).slice(0, 12).join('\n'));
    });

    it(`adds at most ${BUDGET_BYTES} bytes and no zod`, () => {
      expect(bare.bytes).toBeGreaterThan(500_000);
      expect(modulesOf(guarded, 'zod')).toEqual([]);
      const added = guarded.bytes - bare.bytes;
      expect(added, `what was added:\n${addedBytes(bare.byModule, guarded.byModule).join('\n')}`).toBeLessThanOrEqual(BUDGET_BYTES);
    });
  });
});
