#!/usr/bin/env bash
# The browser benchmark: localface's CPU backend, its plain-SIMD and its relaxed-SIMD builds, against
# TFLite's WebAssembly runtime (XNNPACK) in the same headless Chromium, taking turns: MobileFaceNet, BlazeFace
# short and full range, 1 and 2 threads. (The native figures: scripts/bench-native.sh.)
#   scripts/bench-web.sh OUT.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/bench-web.sh OUT.json}
scripts/setup-web.sh
scripts/build-web.sh >/dev/null
node benches/browser/run.mjs "$out"
