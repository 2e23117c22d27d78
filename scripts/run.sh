#!/usr/bin/env bash
# Sets up and runs the main job. For now: builds the `localface` tool and embeds the shared face crops,
# one JSON line per crop. (The live camera page comes with the browser work.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
cargo build --release --quiet
faces=${LOCALFACE_FACES:-../shared/data/faces}
./target/release/localface embed --aligned --backend cpu "$faces"/{amy,penny,sheldon}/*1.png "$faces"/{amy,penny,sheldon}/*2.png
