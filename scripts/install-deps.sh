#!/usr/bin/env bash
# Installs what berth needs from Debian's packages: to build and run it (no
# flag), to run the demo with an installed berth (--run), to build its Debian
# package (--package: dpkg-dev and file, which CPack needs to find the libraries
# the package depends on), or
# to run its whole test suite (--test: all of that, plus sshd, a registry,
# jq for the CI example, clang for the fuzz targets). Idempotent; quiet when
# everything is present.
set -euo pipefail
build_pkgs=(cmake make g++ pkg-config libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev
  nlohmann-json3-dev libfmt-dev catch2 ca-certificates openssh-client)
# The demo runs the real deploy path on this machine: podman, a local image,
# and curl to fetch what the deployment serves.
# netavark (with iptables for its port forwarding) is named on purpose: left to
# apt without recommends, podman's network stack resolves to the older CNI
# plugins, whose bridge takes the same 10.88.0.0/16 as netavark's and breaks
# published ports for both wherever the two have ever run on one kernel.
run_pkgs=(podman runc netavark iptables busybox-static uidmap curl)
# python3-jsonschema: the provider mocks validate request bodies against the
# vendors' own schemas. clang and libclang-rt-dev (its libFuzzer and
# sanitizer runtimes): the fuzz targets of scripts/fuzz.sh.
package_pkgs=(dpkg-dev file)
test_pkgs=(openssh-server docker-registry apache2-utils python3 python3-jsonschema curl procps
  iproute2 clang libclang-rt-dev jq "${package_pkgs[@]}")

case "${1:-}" in
  --run) want=("${run_pkgs[@]}" ca-certificates openssh-client) ;;
  --package) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${package_pkgs[@]}") ;;
  --test) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  "") want=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
  *) echo "usage: install-deps.sh [--run|--package|--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "berth: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
