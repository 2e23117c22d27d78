#!/usr/bin/env bash
# The GPU benchmark (benches/gpu.rs) on a machine with an NVIDIA GPU through Vulkan: the device tool's
# machine, which has no Rust and reaches no network. Build here, run there:
#   here:  scripts/bench-gpu-device.sh prepare      # the bench binary, the models and the Vulkan loader in target/device/
#   there: scripts/bench-gpu-device.sh run          # (device tool: carry ["target/device"])
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/device
case "${1:-}" in
  prepare)
    scripts/fetch-models.sh
    bin=$(cargo bench --bench gpu --no-run --message-format=json 2>/dev/null |
      python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable")][-1])')
    rm -rf "$out" && mkdir -p "$out/debs" && cp "$bin" "$out/bench-gpu" && cp -r models "$out/models"
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    mkdir -p /tmp/amd64/partial && apt-get $o update -qq && (cd "$out/debs" && apt-get $o download libvulkan1 >/dev/null)
    du -sh "$out"
    ;;
  run)
    for f in "$out"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
    nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [ -f "$nvidia" ] && export VK_DRIVER_FILES=$nvidia
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
    LOCALFACE_MODELS="$out/models" "$out/bench-gpu"
    ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
