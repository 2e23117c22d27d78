#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them all. Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "toolchain"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "Vulkan driver for the native GPU tests (lavapipe, a GPU emulated on the CPU)"
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# Mesa's Vulkan loader wants a runtime directory; without one it prints a warning per device.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

step "models"
scripts/fetch-models.sh

step "reference outputs from ai-edge-litert"
scripts/make-references.sh

step "format and lints"
cargo fmt --check
cargo clippy --release --all-targets -- -D warnings

step "native tests"
# --nocapture: the fidelity and hostile-file tests print their figures.
cargo test --release -- --nocapture
# The run above took the best kernels this CPU has; the others (and the fidelity of the models on them) once
# more: SSE where there is AVX2 + FMA, and AVX2 + FMA where there is AVX-512 as well.
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  LOCALFACE_KERNELS=sse cargo test --release --test kernels --test fidelity
  if grep -qw avx512f /proc/cpuinfo; then
    LOCALFACE_KERNELS=avx2 cargo test --release --test kernels --test fidelity
  fi
fi

step "browser tools"
scripts/setup-web.sh

step "wasm32 build"
cargo build --release --target wasm32-unknown-unknown --lib

step "browser tests (wasm-bindgen-test in headless Chromium)"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# The WebGPU tests run on Chromium's SwiftShader adapter, slowly: give the run more than the default 20 s.
export WASM_BINDGEN_TEST_TIMEOUT=600
wasm-pack test --headless --chrome --release -- --test web --test kernels --test web_gpu
# The same kernel tests in the relaxed-SIMD build (fused multiply-add), the one browsers pick when they can.
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack test --headless --chrome --release -- --test kernels --target-dir target/relaxed

step "Firefox ESR and geckodriver"
if ! command -v firefox-esr >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq firefox-esr >/dev/null
fi
if [ "$(geckodriver --version 2>/dev/null | head -n1)" != "geckodriver 0.37.1" ]; then
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --quiet geckodriver --version 0.37.1 --locked
fi

step "browser tests in headless Firefox ESR (no WebGPU there: web and kernels)"
export GECKODRIVER=${GECKODRIVER:-$(command -v geckodriver)}
wasm-pack test --headless --firefox --release -- --test web --test kernels
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack test --headless --firefox --release -- --test kernels --target-dir target/relaxed
# Once more with relaxed SIMD turned off, as in a browser without it: the plain build must not need it (the
# relaxed build fails to compile there: "unrecognized opcode: fd 105").
WASM_BINDGEN_TEST_WEBDRIVER_JSON=tests/firefox-no-relaxed-simd.json \
  wasm-pack test --headless --firefox --release -- --test web --test kernels

step "npm package and demo page"
scripts/build-web.sh

step "the package's types, as a strict TypeScript app sees them"
node_modules/.bin/tsc -p tests/types

step "end-to-end tests of the demo page (headless Chromium, fake camera)"
# --test-force-exit and the time limit: a browser or server left behind by a failing test must not keep CI
# waiting (each test has its own limit too; the whole step takes about 6 minutes).
timeout 1800 node --test --test-force-exit --test-reporter=spec tests/e2e/

step "done"
