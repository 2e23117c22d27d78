#!/usr/bin/env bash
# Photos per second of `localface embed` over a folder, with 1 thread and with every core, beside a Python
# loop that runs the same models in ai-edge-litert (benches/cli_litert.py), on the shared photos and on 1,000
# copies of them (flipped, scaled to 50-100%, re-encoded; made once under target/cli-bench). Both sides do
# the same work: BlazeFace short range on the whole photo, then MobileFaceNet on each face (localface with
# --no-tiles --landmarks blazeface, as the Python loop has no tiles and no O-Net). Runs alternate (localface,
# Python, localface, Python...) twice, so that the machine's drift moves both; each line is one run, as JSON.
#   scripts/bench-cli.sh [FACES_DIR]      (after scripts/test.sh has made .venv and fetched the models)
set -euo pipefail
cd "$(dirname "$0")/.."
faces=${1:-${LOCALFACE_FACES:-../shared/data/faces}}
copies=target/cli-bench/copies
cargo build --release --quiet --bin localface
if [ ! -d "$copies" ]; then
  .venv/bin/python - "$faces" "$copies" <<'PY'
import os, sys
from PIL import Image, ImageOps
faces, out = sys.argv[1:3]
paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(faces) for f in fs if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
os.makedirs(out)
for i in range(1000):
    image = ImageOps.exif_transpose(Image.open(paths[i % len(paths)])).convert("RGB")
    if i // len(paths) % 2:
        image = ImageOps.mirror(image)
    scale = 0.5 + 0.5 * ((i * 37) % 100) / 100
    image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image.save(os.path.join(out, f"copy{i:04d}.jpg"), quality=85)
PY
fi
cores=$(nproc)
for folder in "$faces" "$copies"; do
  for round in 1 2; do
    for threads in 1 "$cores"; do
      start=$(date +%s.%N)
      target/release/localface embed --backend cpu --no-tiles --landmarks blazeface --threads "$threads" "$folder" \
        > target/cli-bench/lines.jsonl
      seconds=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
      # One line per photo (its faces, maybe none), counted after the timing.
      read -r photos faces_found < <(python3 -c 'import sys, json
lines = [json.loads(l) for l in sys.stdin]
print(len(lines), sum(len(l["faces"]) for l in lines))' < target/cli-bench/lines.jsonl)
      echo "{\"tool\": \"localface\", \"folder\": \"$folder\", \"round\": $round, \"threads\": $threads, \"photos\": $photos, \"faces\": $faces_found, \"seconds\": $seconds, \"photos_per_s\": $(python3 -c "print(round($photos / $seconds, 1))")}"
      .venv/bin/python benches/cli_litert.py models "$folder" "$threads" 2>/dev/null | python3 -c "
import json, sys
r = json.load(sys.stdin)
r = {'tool': 'ai-edge-litert', 'folder': '$folder', 'round': $round, 'threads': $threads, **r, 'photos_per_s': round(r['photos'] / r['seconds'], 1)}
print(json.dumps(r))"
    done
  done
done
