import { gradguardVitest } from '@gradguard/vitest-config';

export default gradguardVitest({ include: ['test/**/*.test.ts'] });
