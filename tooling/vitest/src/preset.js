import { defineConfig } from 'vitest/config';

/**
 * The shared Vitest preset: tests resolve workspace packages to their `src` through the private
 * `@gradguard/source` condition, so a package is tested without building its dependencies first.
 * Plain JS: Vitest loads config files with Node, which cannot import TypeScript from a linked package.
 *
 * @param {{ testTimeout?: number, include?: string[] }} [options]
 */
export function gradguardVitest(options = {}) {
  return defineConfig({
    resolve: { conditions: ['@gradguard/source'] },
    ssr: { resolve: { conditions: ['@gradguard/source'] } },
    test: {
      include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 180_000,
      hookTimeout: 120_000,
      pool: 'forks',
      reporters: ['default', ['json', { outputFile: '.vitest-result.json' }]],
    },
  });
}
