import { defaultClientConditions, defineConfig } from 'vite';

// Workspace packages resolve to their TypeScript sources (the private `@gradguard/source` condition), as in tests,
// so the page builds without building the libraries first and `vite` dev reloads on library edits too.
export default defineConfig({
  resolve: { conditions: ['@gradguard/source', ...defaultClientConditions] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  preview: { port: 4173, strictPort: false },
});
