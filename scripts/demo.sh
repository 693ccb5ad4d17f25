#!/usr/bin/env bash
# berth's main job on this machine, without the internet: build berth,
# validate the example templates, build the demo image locally (Debian's
# busybox-static, imported into the container runtime's own store), then
# deploy templates/hello.yaml with the real `berth up` on the embedded default
# config (the `local` provider), fetch the endpoint it prints, and take the
# deployment down again. BERTH=/usr/bin/berth runs the same with an installed
# berth (the Debian package: scripts/check-package.sh) instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${BERTH:-}" ]]; then
  scripts/install-deps.sh --run
  berth=$BERTH
else
  scripts/install-deps.sh
  scripts/build.sh --target berth
  berth=$PWD/build/berth
fi

step() { printf '\n== %s\n' "$*" >&2; }

step "berth validate templates/*.yaml"
"$berth" validate templates/*.yaml

# The runtime the local provider uses: docker when its engine answers, else
# podman. On machines like this one (no systemd cgroup manager, limited
# rlimits) podman needs runc and no ulimit changes; a containers.conf of our
# own says so without touching the system's, and berth's podman inherits it.
if docker info >/dev/null 2>&1; then
  runtime=docker
else
  runtime=podman
  conf_dir=${TMPDIR:-/tmp}/berth-demo.$$
  [[ -n "${BERTH:-}" ]] || conf_dir=$PWD/build/demo
  mkdir -p "$conf_dir"
  cat >"$conf_dir/containers.conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF=$conf_dir/containers.conf
fi

step "building the demo image localhost/berth-demo:1 ($runtime)"
tests/e2e/host/demo-image.sh "$runtime"

step "berth plan templates/hello.yaml"
"$berth" plan templates/hello.yaml

# Whatever happens below, the demo leaves nothing running.
deployed=0
cleanup() {
  if ((deployed)); then
    step "berth down hello"
    "$berth" down hello || true
  fi
}
trap cleanup EXIT

step "berth up templates/hello.yaml"
deployed=1
# stdout carries one host:port per published port; progress goes to stderr.
endpoints=$("$berth" up templates/hello.yaml)
printf '%s\n' "$endpoints"
endpoint=${endpoints%%$'\n'*}
[[ -n "$endpoint" ]] || { echo "berth up printed no endpoint" >&2; exit 1; }
step "endpoint: http://$endpoint/"
curl -fsS --max-time 5 --retry 10 --retry-delay 1 --retry-connrefused "http://$endpoint/"

step "berth status hello"
"$berth" status hello

deployed=0
step "berth down hello"
"$berth" down hello
