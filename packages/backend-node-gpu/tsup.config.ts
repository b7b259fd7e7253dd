import { library } from '@gradguard/tsup-config';

export default library({
  entry: { index: 'src/index.ts' },
  // import.meta.url in the CommonJS build too: the loader resolves optional peers from this file's location.
  shims: true,
});
