#!/usr/bin/env bash
# The whole test suite, from nothing: installs what is missing, builds, starts
# the end-to-end environment (mock provider APIs, sshd hosts, podman, a
# registry: see tests/e2e/env.sh), runs every test with ctest, and tears the
# environment down again.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
if [[ -z "${BERTH_TEST_BUILT:-}" ]]; then
  scripts/install-deps.sh --test
  scripts/build.sh
  # In a plain chroot, container exec would run on the machine's files
  # instead of the container's: the rest runs with "/" as the root of its own
  # mount namespace (see tests/e2e/host/own_root.cpp). Elsewhere a plain exec.
  BERTH_TEST_BUILT=1 exec build/berth_own_root "$top/scripts/test.sh" "$@"
fi
export BERTH_E2E_ROOT="${BERTH_E2E_ROOT:-$(mktemp -d /tmp/berth-e2e.XXXXXX)}"
if [[ -x tests/e2e/env.sh ]]; then
  trap '"$top/tests/e2e/env.sh" stop' EXIT  # also after a start that failed halfway
  tests/e2e/env.sh start
fi
(cd build && ctest --output-on-failure -j1 "$@")
# The fuzz targets, each for a bounded time (scripts/fuzz.sh).
scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-10}"
