#!/usr/bin/env bash
# Regenerates completions/ from the built binary's own command tree. A unit
# test fails when the committed files differ from what berth prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/berth}
"$bin" completion bash > completions/berth.bash
"$bin" completion zsh > completions/_berth
"$bin" completion fish > completions/berth.fish
