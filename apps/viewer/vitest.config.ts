import { gradguardVitest } from '@gradguard/vitest-config';

// The browser tests drive the built page in headless Chromium; live training on a software GPU takes tens of seconds,
// minutes when the machine is busy with other suites.
export default gradguardVitest({ testTimeout: 240_000 });
