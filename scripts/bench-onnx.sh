#!/usr/bin/env bash
# The six ONNX models in localface (native and WebAssembly in Node.js) against onnxruntime, one thread, in
# one run with the contenders' rounds alternating (benches/onnx_compare.py).
#   scripts/bench-onnx.sh OUT.json [ROUNDS] [RUNS]     (after scripts/test.sh: the models, .venv and pkg/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/bench-onnx.sh OUT.json [ROUNDS] [RUNS]}
scripts/fetch-models.sh >/dev/null
cargo build --release --quiet --bin localface
[ -f pkg/index.js ] || scripts/build-web.sh >/dev/null
.venv/bin/python benches/onnx_compare.py models target/release/localface "$out" "${2:-5}" "${3:-20}"
echo "wrote $out" >&2
