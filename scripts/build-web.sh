#!/usr/bin/env bash
# Builds the npm package into pkg/ and copies it into www/pkg for the demo page.
#   scripts/build-web.sh [web|bundler]     (default: web)
# Two WebAssembly builds: plain SIMD, and relaxed SIMD (fused multiply-add) that `init` picks where the
# browser validates it. Their JS glue must be identical, so one glue serves both.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-web}
command -v wasm-pack >/dev/null || { echo "build-web: wasm-pack is missing (scripts/setup-web.sh installs it)" >&2; exit 1; }
scripts/fetch-models.sh >/dev/null

wasm-pack build --quiet --release --target "$target" --out-dir pkg --out-name localface
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack build --quiet --release --target "$target" --out-dir target/pkg-relaxed --out-name localface \
  -- --target-dir target/relaxed
# wasm-bindgen's comments name each closure shim by its index in the module, which the two builds may number
# differently (the relaxed build inlines differently); the code must be the same.
glue_code() { grep -v '^ *// Cast intrinsic for ' "$1"; }
if ! cmp -s <(glue_code pkg/localface.js) <(glue_code target/pkg-relaxed/localface.js); then
  echo "build-web: the relaxed-SIMD build's JS glue differs from the plain build's" >&2
  exit 1
fi
cp target/pkg-relaxed/localface_bg.wasm pkg/localface_relaxed_bg.wasm

# Optimise both modules with binaryen's wasm-opt (from npm; Debian's is too old for this output).
if [ -x node_modules/.bin/wasm-opt ]; then
  for m in pkg/localface_bg.wasm pkg/localface_relaxed_bg.wasm; do
    node_modules/.bin/wasm-opt -O3 "$m" -o "$m.opt" && mv "$m.opt" "$m"
  done
fi

if [ "$target" = web ]; then
  # The package's JS, its types, and its README for the npm page (in place of the repository's).
  cp src/web/js/index.js src/web/js/index.d.ts src/web/js/guard.js src/web/js/worker.js src/web/js/worker-client.js \
     src/web/js/README.md pkg/
fi
mkdir -p pkg/models
# The licences: localface's own, and the models' (NOTICE.md says which is which).
cp LICENSE NOTICE.md LICENSE-APACHE-2.0.txt pkg/
cp models/face_detection_short_range.tflite models/face_detection_full_range.tflite models/onet.tflite \
   models/MobileFaceNet.tflite pkg/models/

node - "$target" <<'JS'
const fs = require('fs');
const target = process.argv[2];
const pkg = JSON.parse(fs.readFileSync('pkg/package.json', 'utf8'));
pkg.name = 'localface';
pkg.description = 'Face recognition that runs entirely on the device: BlazeFace, O-Net and MobileFaceNet in WebAssembly.';
if (target === 'web') {
  Object.assign(pkg, { main: 'index.js', module: 'index.js', types: 'index.d.ts' });
  pkg.files = ['index.js', 'index.d.ts', 'guard.js', 'worker.js', 'worker-client.js', 'localface.js', 'localface.d.ts',
    'localface_bg.wasm', 'localface_bg.wasm.d.ts', 'localface_relaxed_bg.wasm', 'snippets', 'models',
    'LICENSE', 'NOTICE.md', 'LICENSE-APACHE-2.0.txt'];
  pkg.sideEffects = ['./index.js', './snippets/*'];
  // What apps and bundlers may reach: the entry (with its types), the worker for apps that start it
  // themselves, and the assets, for apps that copy or serve them (esbuild does not copy them itself).
  pkg.exports = {
    '.': { types: './index.d.ts', default: './index.js' },
    './worker.js': './worker.js',
    './worker-client.js': './worker-client.js',
    './localface_bg.wasm': './localface_bg.wasm',
    './localface_relaxed_bg.wasm': './localface_relaxed_bg.wasm',
    './models/*': './models/*',
    './package.json': './package.json',
  };
} else {
  pkg.files = [...new Set([...(pkg.files || []), 'localface_relaxed_bg.wasm', 'snippets', 'models'])];
}
fs.writeFileSync('pkg/package.json', JSON.stringify(pkg, null, 2) + '\n');
JS

if [ "$target" = web ]; then
  rm -rf www/pkg
  cp -r pkg www/pkg
  # What the demo's service worker keeps for offline use: the code, not the models (the package keeps those).
  (cd www/pkg && find . -type f \( -name '*.js' -o -name '*.wasm' \) | sed 's|^\./||' | sort) |
    node -e 'console.log(JSON.stringify(require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)))' \
    > www/pkg/shell.json
  # The demo's liveness check uses four optional models, and its second embedder a fifth (not in the
  # package: their origin is not documented); served beside the page when fetch-models.sh has them.
  rm -rf www/optional-models
  mkdir -p www/optional-models
  for m in fr_liveness.onnx fr_landmark.onnx fr_eye.onnx fr_pose.onnx fr_feature.onnx; do
    if [ -f "models/$m" ]; then cp "models/$m" www/optional-models/; fi
  done
fi
ls -l pkg/*.wasm
