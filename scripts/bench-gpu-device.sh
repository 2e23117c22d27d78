#!/usr/bin/env bash
# The GPU tests (tests/gpu.rs) and benchmark (benches/gpu.rs) on a machine with an NVIDIA GPU through
# Vulkan, and `localface profile` of each model: the device tool's machine, which has no Rust and reaches
# no network. Build here, run there:
#   here:  scripts/bench-gpu-device.sh prepare   # binaries, models, reference cases, photos, Vulkan loader -> target/device/
#   there: scripts/bench-gpu-device.sh run       # (device tool: carry ["target/device"]); profiles: $OUT/profiles.tgz
#   there: scripts/bench-gpu-device.sh bench     # the benchmark and profiles, no tests; `profile`: the profiles alone
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/device
executable() { # the executable of the target named "gpu", from cargo's JSON messages
  python3 -c 'import json,sys; print(*[m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"] == "gpu"])'
}
case "${1:-}" in
  prepare)
    scripts/fetch-models.sh
    [ -f target/references/manifest.json ] || scripts/make-references.sh
    bench=$(cargo bench --bench gpu --no-run --message-format=json 2>/dev/null | executable)
    tests=$(cargo test --release --test gpu --no-run --message-format=json 2>/dev/null | executable)
    cargo build --release --bin localface 2>/dev/null
    rm -rf "$out" && mkdir -p "$out/debs"
    strip -o "$out/bench-gpu" "$bench" && strip -o "$out/test-gpu" "$tests" && strip -o "$out/localface" target/release/localface
    cp -r models "$out/models" && cp -r target/references "$out/references" && cp -r ../shared/data/faces "$out/faces"
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    mkdir -p /tmp/amd64/partial && apt-get $o update -qq && (cd "$out/debs" && apt-get $o download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 >/dev/null)
    du -sh "$out"
    ;;
  run | bench | profile)
    for f in "$out"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
    # NVIDIA's Vulkan driver lives in libGLX_nvidia (hence libglvnd); its manifest is where the image put it.
    nvidia=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
      /etc/vulkan/icd.d/nvidia_icd.json 2>/dev/null | head -1 || true)
    [ -n "$nvidia" ] && export VK_DRIVER_FILES=$nvidia
    echo "Vulkan driver manifest: ${nvidia:-none found}"
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
    export LOCALFACE_MODELS="$out/models" LOCALFACE_REFERENCES="$out/references" LOCALFACE_FACES="$out/faces"
    [ "$1" = run ] && "$out/test-gpu" --test-threads=1 --nocapture
    [ "$1" != profile ] && "$out/bench-gpu"
    profiles=$out/profiles && mkdir -p "$profiles"
    summary() { # one line per profile, then its ten costliest dispatches where asked
      python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['model'].split('/')[-1]} batch {r['batch']} fusion {sys.argv[2]}: {r['total_ms']} ms, {r['dispatches']} dispatches, "
      f"{r['submits']} submit(s), GPU {r['gpu_ms']} ms, CPU side {r['cpu_side']}")
for s in r['top'] if len(sys.argv) > 3 else []:
    print(f"  {s['index']:>3} {s['op']:<32} {s['kernel']:<24} {s['ms']:.4f} ms")
PY
    }
    for case in MobileFaceNet:1 MobileFaceNet:32 MobileFaceNet:128 face_detection_short_range:1 face_detection_full_range:1; do
      model=${case%:*} batch=${case#*:}
      for fusion in none add all; do
        json="$profiles/$model-b$batch-$fusion.json"
        "$out/localface" profile --backend gpu --fusion "$fusion" --runs 10 --batch "$batch" "$model.tflite" >"$json"
        summary "$json" "$fusion" $([ "$fusion" = add ] && echo top)
      done
    done
    # The device tool brings back a few files from $OUT: the profiles as one.
    [ -n "${OUT:-}" ] && tar czf "$OUT/profiles.tgz" -C "$profiles" . || true
    ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
