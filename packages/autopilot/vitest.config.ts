import { gradguardVitest } from '@gradguard/vitest-config';

export default gradguardVitest();
