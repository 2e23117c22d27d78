#!/usr/bin/env bash
# Sets up and runs the main job: builds the npm package and the demo page, then serves it on localhost.
# Open the address it prints in Chrome, Edge or Firefox; the camera works on localhost without HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8080}
scripts/setup-web.sh
scripts/build-web.sh >/dev/null
exec python3 scripts/serve.py "$port" www
