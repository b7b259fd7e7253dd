import { library } from '@gradguard/tsup-config';

// Four entries share the error classes: `splitting` gives the CommonJS build shared chunks too (as ESM has), so
// `instanceof GradguardError` holds whichever entry threw and whichever the catcher imported.
export default library({ splitting: true, entry: { index: 'src/index.ts', 'run-log': 'src/run-log/index.ts', monitor: 'src/monitor-entry.ts', 'run-log/encode': 'src/run-log/encode-entry.ts' } });
