#!/usr/bin/env bash
# Builds berth's Debian package with CPack (see the CPACK_ settings in
# CMakeLists.txt) into DIR (default dist/) and prints its path:
#   scripts/package.sh [DIR]
# The version comes from git (cmake/version.cmake); the package depends on
# the Debian packages of the libraries berth links (dpkg-shlibdeps), plus
# libcurl4 and openssh-client, which it runs rather than links.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
scripts/install-deps.sh --package
# A configure now, so the package carries the version of what is built.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target berth -j"$(nproc)" >/dev/null
(cd build && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
ls -t "$out"/berth_*.deb | head -1
