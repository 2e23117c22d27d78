#!/usr/bin/env bash
# Sets up a Python venv with the reference interpreter and writes reference outputs to target/references.
set -euo pipefail
cd "$(dirname "$0")/.."
faces=${LOCALFACE_FACES:-../shared/data/faces}
out=${LOCALFACE_REFERENCES:-target/references}
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import ai_edge_litert, onnxruntime, numpy, PIL" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi
scripts/fetch-models.sh
rm -f "$out/manifest.json"
if [ ! -f "$faces/amy/amy1.png" ]; then
  echo "make-references: SKIPPED: no face photos in $faces (the shared data folder is absent); the fidelity tests skip too"
  exit 0
fi
mkdir -p "$out"
# The model of every op the ONNX reader takes, built by the tests' own code (never committed).
cargo run --release --quiet --example onnx_ops_model -- "$out/onnx-ops.onnx"
TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore .venv/bin/python scripts/make-references.py models "$faces" "$out"
