import type { UserConfig } from 'vitest/config';

export function gradguardVitest(options?: { testTimeout?: number; include?: string[] }): UserConfig;
