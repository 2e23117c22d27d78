#!/usr/bin/env bash
# The browser benchmark: localface's CPU backend against TFLite's WebAssembly runtime (XNNPACK) in the same
# headless Chromium, then the native figures of localface and ai-edge-litert.
#   scripts/bench-web.sh OUT.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/bench-web.sh OUT.json}
scripts/setup-web.sh
scripts/make-references.sh >/dev/null   # the venv with ai-edge-litert, for the native comparison
scripts/build-web.sh >/dev/null
node benches/browser/run.mjs "$out"
