#!/usr/bin/env bash
# Makes a fresh clone ready: pnpm (via npx when it is not installed), the workspace's dependencies, and — unless
# --no-browser — Debian's Chromium and libvulkan1, which the WebGPU tests drive headless on SwiftShader.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

want_browser=1
for a in "$@"; do [ "$a" = "--no-browser" ] && want_browser=0; done

if [ "$want_browser" = 1 ] && { [ ! -x /usr/bin/chromium ] || ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing chromium and libvulkan1 from Debian (browser tests need them)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libvulkan1 >/dev/null
  else
    echo "setup: /usr/bin/chromium or libvulkan1 is missing; install them (apt-get install chromium libvulkan1) for the browser tests" >&2
  fi
fi

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if command -v pnpm >/dev/null && [ "$(pnpm --version)" = "$pnpm_version" ]; then
  pnpm install --frozen-lockfile --reporter=append-only
else
  npx -y "pnpm@$pnpm_version" install --frozen-lockfile --reporter=append-only
fi
