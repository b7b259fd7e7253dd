import { gradguardVitest } from '@gradguard/vitest-config';

export default gradguardVitest({ include: ['test/**/*.test.ts'], testTimeout: 60_000 });
