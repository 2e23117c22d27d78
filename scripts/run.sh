#!/usr/bin/env bash
# Sets up and runs the main job: fetches the models, builds `localface`, enrolls the eight people of the
# shared face crops from two photos each, then names everyone in the group photos.
# (The live camera page comes with the browser work.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
cargo build --release --quiet
faces=${LOCALFACE_FACES:-../shared/data/faces}
gallery=target/demo-gallery.lfg
rm -f "$gallery"
for who in amy bernadette howard leonard penny raj sheldon stuart; do
  ./target/release/localface enroll --gallery "$gallery" "$who" "$faces/$who/${who}1.png" "$faces/$who/${who}2.png" >/dev/null
done
echo "enrolled 8 people in $gallery; identifying the group photos:"
./target/release/localface identify --gallery "$gallery" "$faces"/group/bbt*.jpg
