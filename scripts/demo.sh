#!/usr/bin/env bash
# berth's main job on this machine: build it, then validate the example
# templates and deploy the demo on the embedded default config (the `local`
# provider).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target berth
./build/berth validate templates/*.yaml
