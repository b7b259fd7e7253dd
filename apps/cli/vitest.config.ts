import { gradguardVitest } from '@gradguard/vitest-config';

// CLI tests run the built `dist/cli.js` as a subprocess, so they are slower than unit tests.
export default gradguardVitest({ testTimeout: 180_000 });
