import { library } from '@gradguard/tsup-config';

export default library({ entry: { index: 'src/index.ts', 'run-log': 'src/run-log/index.ts', monitor: 'src/monitor-entry.ts' } });
