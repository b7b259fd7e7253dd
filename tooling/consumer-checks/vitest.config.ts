import { gradguardVitest } from '@gradguard/vitest-config';

// These tests build against the packages' dist (as a user installs them), never their src: turbo builds every
// workspace dependency first (`test` depends on `^build`).
export default gradguardVitest({ include: ['test/**/*.test.ts'], testTimeout: 120_000 });
