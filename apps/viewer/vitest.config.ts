import { gradguardVitest } from '@gradguard/vitest-config';

// The browser tests drive the built page in headless Chromium; live training on a software GPU takes tens of seconds.
export default gradguardVitest({ testTimeout: 150_000 });
