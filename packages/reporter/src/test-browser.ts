import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@gradguard/vitest-config/chromium';
import { chromium, type Browser } from 'playwright-core';

// Headless Debian Chromium for the tests that draw charts (not exported by the package).

export const CHROMIUM = CHROMIUM_PATH;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--disable-gpu'],
  });
}
