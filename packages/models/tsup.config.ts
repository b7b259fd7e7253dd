import { library } from '@gradguard/tsup-config';

export default library({ entry: { index: 'src/index.ts', names: 'src/names.ts' } });
