#!/usr/bin/env bash
# The whole test suite, from nothing: installs what is missing, builds, starts
# the end-to-end environment (mock provider APIs, sshd hosts, podman, a
# registry: see tests/e2e/env.sh), runs every test with ctest, and tears the
# environment down again.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
scripts/install-deps.sh --test
scripts/build.sh
export BERTH_E2E_ROOT="${BERTH_E2E_ROOT:-$(mktemp -d /tmp/berth-e2e.XXXXXX)}"
if [[ -x tests/e2e/env.sh ]]; then
  tests/e2e/env.sh start
  trap '"$top/tests/e2e/env.sh" stop' EXIT
fi
cd build
ctest --output-on-failure -j1 "$@"
