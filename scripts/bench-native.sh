#!/usr/bin/env bash
# localface's native SIMD kernels against ai-edge-litert (XNNPACK), one thread, MobileFaceNet and BlazeFace
# short and full range, in one run with the two sides' rounds alternating (benches/native_compare.py).
#   scripts/bench-native.sh OUT.json [ROUNDS] [RUNS]     (after scripts/test.sh: the models and .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/bench-native.sh OUT.json [ROUNDS] [RUNS]}
scripts/fetch-models.sh >/dev/null
cargo build --release --quiet --bin localface
# Both sides on one core: this machine's cores each slow down for seconds at a time, and two processes
# left to the scheduler land in different stretches.
pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" .venv/bin/python benches/native_compare.py models target/release/localface "$out" "${2:-5}" "${3:-30}"
echo "wrote $out" >&2
