#!/usr/bin/env bash
# Installs what the browser build and its tests need, once: the wasm32 target, wasm-bindgen-cli (the exact
# version of the wasm-bindgen crate), wasm-pack, Chromium and ChromeDriver, and the npm tools (package-lock).
set -euo pipefail
cd "$(dirname "$0")/.."
WASM_BINDGEN=0.2.130   # = the wasm-bindgen version pinned in Cargo.toml

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN" ]; then
  # Not --locked: one of its locked dependencies is gone from the registry. Opt-level 1 halves the build.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN"
fi
command -v wasm-pack >/dev/null || CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --quiet wasm-pack --locked
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/binaryen ] || [ ! -d node_modules/typescript ]; then
  npm ci --no-audit --no-fund --silent
fi
