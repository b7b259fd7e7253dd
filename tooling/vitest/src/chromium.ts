/**
 * Debian's Chromium as the browser tests launch it (never a downloaded browser: downloads fail here). The flags keep
 * it offline and quiet in a container; tests add their own (`--enable-unsafe-webgpu` for WebGPU on SwiftShader,
 * `--disable-gpu` for plain 2-D canvas work).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];
