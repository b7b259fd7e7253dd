import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts', tensorboard: 'src/tensorboard-entry.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // node.ts finds uPlot with createRequire(import.meta.url): shim import.meta.url in the CommonJS build.
  shims: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@gradguard\//],
});
