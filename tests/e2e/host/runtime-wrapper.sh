#!/usr/bin/env bash
# The container runtime of one end-to-end test host, installed as both
# `podman` and `docker` in the environment's bin/ (first on the PATH that the
# test sshd hands every session, see env.sh). All "hosts" share this machine,
# so each one gets what a real host would have to itself:
#   - its own podman storage, network, locks and state (hosts/<name>/),
#     chosen by BERTH_E2E_HOST, which each test sshd sets per host
#     ("local" when unset: the `local` provider's store);
#   - published ports bound to the host's own loopback address, so two hosts
#     can publish the same port (-p 8000:8000 becomes -p 127.0.0.21:8000:8000);
#   - runc and no ulimit changes (containers.conf), which this machine needs.
# No GPU exists here: GPU flags are recorded in hosts/<name>/gpu.log and
# dropped. Every call's argv is appended to hosts/<name>/runtime.log, so tests
# can prove that no secret ever reached a command line.
# For interrupt tests, hosts/<name>/slow makes one step slow (60 s): "pull"
# sleeps before pulling; "start" starts the container, then sleeps before
# answering (the container exists while berth still waits).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
host=${BERTH_E2E_HOST:-local}
dir=$root/hosts/$host
if [[ ! -f "$dir/address" ]]; then
  echo "berth-e2e: no test host '$host' under $root" >&2
  exit 125
fi
addr=$(<"$dir/address")
export CONTAINERS_CONF=$dir/containers.conf
export CONTAINERS_REGISTRIES_CONF=$root/registries.conf
as=$(basename "$0")

{
  printf '%s' "$as"
  printf ' %q' "$@"
  printf '\n'
} >>"$dir/runtime.log"

# Leading global options. docker's --config DIR names its credentials
# directory, which podman ignores; podman reads REGISTRY_AUTH_FILE instead,
# which berth sets as well.
globals=()
while (($#)) && [[ "$1" == -* ]]; do
  case "$1" in
    --config) shift 2 ;;
    --config=*) shift ;;
    *) globals+=("$1"); shift ;;
  esac
done
(($#)) || exec /usr/bin/podman --root "$dir/storage" --runroot "$dir/run" "${globals[@]}"
sub=$1
shift

# Options of run/create that take a separate value; the first word that is
# neither an option nor such a value is the image, after which everything
# belongs to the container and is left alone.
declare -A takes_value=([--name]=1 [--label]=1 [-l]=1 [--env-file]=1 [-e]=1 [--env]=1 [-p]=1
  [--publish]=1 [-v]=1 [--volume]=1 [--gpus]=1 [--device]=1 [--restart]=1 [--entrypoint]=1 [-w]=1
  [--workdir]=1 [-u]=1 [--user]=1 [--network]=1 [--net]=1 [--hostname]=1 [-h]=1 [--memory]=1
  [-m]=1 [--cpus]=1 [--mount]=1 [--health-cmd]=1 [--health-interval]=1 [--health-timeout]=1
  [--health-retries]=1 [--health-start-period]=1 [--stop-signal]=1 [--stop-timeout]=1
  [--shm-size]=1 [--ulimit]=1 [--cap-add]=1 [--cap-drop]=1 [--security-opt]=1 [--add-host]=1
  [--dns]=1 [--tmpfs]=1 [--log-driver]=1 [--log-opt]=1 [--pull]=1 [--platform]=1 [--ipc]=1
  [--pid]=1 [--uts]=1 [--group-add]=1 [--label-file]=1 [--annotation]=1 [--pod]=1 [--secret]=1
  [--userns]=1 [--expose]=1 [--cidfile]=1 [--init-path]=1)

publish() {  # adds this host's address to a -p value that has none
  if [[ "$1" =~ ^[0-9]+(-[0-9]+)?:[0-9]+(-[0-9]+)?(/[a-z]+)?$ ]]; then
    printf '%s:%s' "$addr" "$1"
  else
    printf '%s' "$1"
  fi
}

args=()
case "$sub" in
  run | create)
    while (($#)); do
      a=$1
      shift
      case "$a" in
        -p | --publish)
          args+=("$a" "$(publish "${1:-}")")
          shift
          ;;
        -p=* | --publish=*)
          args+=("${a%%=*}=$(publish "${a#*=}")")
          ;;
        --gpus)
          echo "--gpus $1" >>"$dir/gpu.log"
          shift
          ;;
        --gpus=*)
          echo "$a" >>"$dir/gpu.log"
          ;;
        --device)
          if [[ "$1" == nvidia.com/gpu=* || "$1" == /dev/kfd || "$1" == /dev/dri ]]; then
            echo "--device $1" >>"$dir/gpu.log"
          else
            args+=("$a" "$1")
          fi
          shift
          ;;
        --*=* | -?=*)
          args+=("$a")
          ;;
        -*)
          if [[ -n "${takes_value[$a]:-}" ]]; then
            args+=("$a" "$1")
            shift
          else
            args+=("$a")
          fi
          ;;
        *)
          args+=("$a" "$@")  # the image and the container's own arguments
          break
          ;;
      esac
    done
    ;;
  rm)
    # docker rm -f kills at once; podman waits for a graceful stop first.
    if [[ "$as" == docker && " $* " != *" --time "* && " $* " != *" -t "* ]]; then
      args=(--time 0 "$@")
    else
      args=("$@")
    fi
    ;;
  *)
    args=("$@")
    ;;
esac
slow=$(cat "$dir/slow" 2>/dev/null || true)
case "$sub:$slow" in
  pull:pull) sleep 60 ;;
  run:start)
    rc=0
    /usr/bin/podman --root "$dir/storage" --runroot "$dir/run" "${globals[@]}" "$sub" "${args[@]}" ||
      rc=$?
    sleep 60
    exit "$rc"
    ;;
esac
exec /usr/bin/podman --root "$dir/storage" --runroot "$dir/run" "${globals[@]}" "$sub" "${args[@]}"
