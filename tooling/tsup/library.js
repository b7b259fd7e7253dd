import { defineConfig } from 'tsup';

/**
 * The build every library shares: ESM + CJS + .d.ts with source maps, and tfjs and the other gradguard packages left
 * external (one @tensorflow/tfjs-core engine per process; workspace packages are dependencies, never inlined).
 * Plain JS so that tsup can load it from a linked package.
 *
 * @param {import('tsup').Options} options what differs per package: at least `entry`.
 */
export function library(options) {
  return defineConfig({
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    external: [/^@tensorflow\//, /^@gradguard\//],
    ...options,
  });
}
