import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is an entry of its own: `bench --workers N` forks it by file name (dist/bench-worker.js); so is the
  // module-hooks file `gradguard run` registers by name (dist/tfjs-redirect-hooks.js).
  entry: { cli: 'src/cli.ts', 'bench-worker': 'src/bench-worker.ts', register: 'src/register.ts', 'tfjs-redirect-hooks': 'src/run-script/tfjs-redirect-hooks.ts' },
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
  // tfjs stays external: one @tensorflow/tfjs-core instance, shared with the workspace packages.
  external: [/^@tensorflow\//, /^@gradguard\/(?!bench$)/, 'webgpu'],
  // The private benchmark harness (TypeScript source, never published) is bundled into the CLI.
  noExternal: ['@gradguard/bench'],
});
