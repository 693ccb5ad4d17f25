#!/usr/bin/env bash
# The end-to-end environment: real sshd hosts on loopback addresses, each with
# its own podman (storage, network, published-port address), a real registry
# with htpasswd auth, and berth's demo image, everything under
# $BERTH_E2E_ROOT and only on 127.0.0.0/8.
#
#   env.sh start         start (idempotent: a healthy environment is kept)
#   env.sh stop          stop what start started, remove its containers
#   env.sh status        exit 0 when everything is up
#   env.sh rekey HOST    give HOST a new host key and restart its sshd
#   env.sh restart HOST  restart HOST's sshd (same key)
#   env.sh stophost HOST stop HOST's sshd (and its open connections): the
#                        machine is gone or unreachable; `status` fails until
#   env.sh starthost HOST starts it again (same key)
#
# BERTH_E2E_NET=127.N.N puts the hosts on 127.N.N.21-24 instead of 127.0.0.x.
#
# Each host's sshd listens on two ports: a free one (2222 when it can) for
# the ssh provider and the container-native mocks, and 22, where VM providers
# such as Lambda send berth (their APIs report only an IP; berth logs in as
# ubuntu@IP:22). For those, `start` makes an `ubuntu` login if the system has
# none: a uid-0 alias of root, so it runs the same per-host podman. `stop`
# removes it again once no other environment on this machine uses it, and
# only if it was made here. When port 22 is taken on the hosts' addresses
# (a system sshd on 0.0.0.0:22), the hosts listen on their own port only,
# env.json says so ("vm_port": null) and the VM tests fail saying why.
#
# In a plain chroot (not the root of its own mount namespace) container exec
# cannot reach a container's files; `start` refuses there: run the
# environment and the tests under build/berth_own_root, as scripts/test.sh
# does (tests/e2e/host/own_root.cpp).
#
# $BERTH_E2E_ROOT/env.json describes it all for the tests
# (tests/support/e2e_env.h reads it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BERTH_E2E_ROOT:?set BERTH_E2E_ROOT to the directory for the environment}"
mkdir -p "$BERTH_E2E_ROOT"
root=$(cd "$BERTH_E2E_ROOT" && pwd)
hosts=(h1 h2 h3 h4)
# BERTH_E2E_NET (default 127.0.0) picks the hosts' /24 inside 127.0.0.0/8, so
# two environments can run side by side on one machine.
net=${BERTH_E2E_NET:-127.0.0}
[[ "$net" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || {
  echo "e2e-env: BERTH_E2E_NET must look like 127.N.N, not '$net'" >&2
  exit 2
}
declare -A address=([h1]=$net.21 [h2]=$net.22 [h3]=$net.23 [h4]=$net.24 [local]=127.0.0.1)
registry_user=berth

log() { echo "e2e-env: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# A zombie counts as gone: daemons here may be reparented to an init that
# does not reap them.
proc_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z* ]]
}
pid_alive() { [[ -f "$1" ]] && proc_alive "$(<"$1")"; }

# Bounded wait for a TCP listener.
wait_port() {
  local addr=$1 port=$2 i
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

port_free() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}

free_port() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
PY
}

# The preferred port when every address can bind it, else any free one.
pick_port() {
  local preferred=$1
  shift
  local a
  for a in "$@"; do
    port_free "$a" "$preferred" || {
      free_port "$1"
      return
    }
  done
  echo "$preferred"
}

# A short, stable number for this root, so two environments on one machine
# get different bridge names and subnets.
root_index() { echo $(($(printf '%s' "$root" | cksum | cut -d' ' -f1) % 200)); }

podman_as() {  # podman_as HOST ARGS...: the runtime as HOST sees it
  BERTH_E2E_HOST=$1 "$root/bin/podman" "${@:2}"
}

write_runtime() {
  mkdir -p "$root/bin"
  install -m 0755 "$here/host/runtime-wrapper.sh" "$root/bin/podman"
  install -m 0755 "$here/host/runtime-wrapper.sh" "$root/bin/docker"
  cat >"$root/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "127.0.0.1:$registry_port"
insecure = true
EOF
}

# The `ubuntu` login of VM providers. Several environments may share this
# machine (and its /etc/passwd), so each one that uses the login registers
# under /run/berth-e2e/vm-user/; the login is removed when the last one stops,
# and only when an environment made it (a system that had its own `ubuntu`
# keeps it untouched). All of it under one lock.
vm_user=ubuntu
vm_user_dir=/run/berth-e2e/vm-user
vm_user_entry() { echo "$vm_user_dir/users/$(printf '%s' "$root" | cksum | cut -d' ' -f1)"; }

with_vm_user_lock() {
  mkdir -p "$vm_user_dir/users"
  (
    flock -w 60 9 || die "cannot lock $vm_user_dir/lock"
    "$@"
  ) 9>"$vm_user_dir/lock"
}

acquire_vm_user_locked() {
  if ! getent passwd "$vm_user" >/dev/null; then
    # -p '*': no password, but not locked ('!'), which sshd without PAM
    # would refuse even for a key. -r: no subordinate ids, no aging.
    useradd -r -o -u 0 -g 0 -M -d /root -s /bin/bash -p '*' -c "berth e2e VM login" "$vm_user" ||
      die "cannot create the $vm_user login"
    touch "$vm_user_dir/created"
    log "made the $vm_user login (uid 0) for the VM-provider hosts"
  fi
  [[ "$(getent passwd "$vm_user" | cut -d: -f3)" == 0 || -f "$vm_user_dir/created" ]] ||
    log "this system's own $vm_user login is not root: VM-provider tests may not run containers"
  echo "$root" >"$(vm_user_entry)"
}

release_vm_user_locked() {
  rm -f "$(vm_user_entry)"
  local e
  for e in "$vm_user_dir"/users/*; do
    [[ -e "$e" ]] || continue
    # An environment whose root is gone will never stop: forget it.
    [[ -d "$(<"$e")" ]] && return 0
    rm -f "$e"
  done
  [[ -f "$vm_user_dir/created" ]] || return 0
  # -f: userdel refuses a uid that has processes, and uid 0 always has. No -r:
  # the home is root's.
  if getent passwd "$vm_user" >/dev/null; then
    userdel -f "$vm_user" 2>/dev/null || {
      log "could not remove the $vm_user login"
      return 0
    }
    log "removed the $vm_user login"
  fi
  rm -f "$vm_user_dir/created"
}

acquire_vm_user() { with_vm_user_lock acquire_vm_user_locked; }
release_vm_user() {
  [[ -d "$vm_user_dir/users" ]] || return 0
  with_vm_user_lock release_vm_user_locked
}

# One host's container store: podman state, network and locks of its own.
write_store() {
  local h=$1 n=$2 idx
  local dir=$root/hosts/$h
  idx=$(root_index)
  mkdir -p "$dir"/{storage,run,tmp,networks}
  echo "${address[$h]}" >"$dir/address"
  local net=berth-e2e-$h bridge=brt${idx}x$n subnet=10.$((40 + idx)).$n
  cat >"$dir/containers.conf" <<EOF
[containers]
default_ulimits = []

[engine]
runtime = "runc"
lock_type = "file"
tmp_dir = "$dir/tmp"
stop_timeout = 2

[network]
network_config_dir = "$dir/networks"
default_network = "$net"
EOF
  cat >"$dir/networks/$net.json" <<EOF
{
  "name": "$net",
  "id": "$(printf '%s' "$root/$net" | sha256sum | cut -c1-64)",
  "driver": "bridge",
  "network_interface": "$bridge",
  "created": "2026-01-01T00:00:00Z",
  "subnets": [{"subnet": "$subnet.0/24", "gateway": "$subnet.1"}],
  "ipv6_enabled": false,
  "internal": false,
  "dns_enabled": false,
  "ipam_options": {"driver": "host-local"}
}
EOF
}

write_sshd() {
  local h=$1
  local dir=$root/hosts/$h
  [[ -f "$dir/ssh_host_ed25519_key" ]] ||
    ssh-keygen -q -t ed25519 -N '' -C "berth-e2e-$h" -f "$dir/ssh_host_ed25519_key"
  local vm_listen=""
  [[ -n "$vm_port" ]] && vm_listen="ListenAddress ${address[$h]}:$vm_port"
  cat >"$dir/sshd_config" <<EOF
ListenAddress ${address[$h]}:$ssh_port
$vm_listen
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $root/keys/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
MaxSessions 100
MaxStartups 100:30:200
LogLevel INFO
PrintMotd no
X11Forwarding no
SetEnv PATH=$root/bin:/usr/sbin:/usr/bin:/sbin:/bin BERTH_E2E_HOST=$h BERTH_E2E_ROOT=$root
EOF
}

start_sshd() {
  local h=$1
  local dir=$root/hosts/$h
  pid_alive "$dir/sshd.pid" && return 0
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd for $h did not start"
  local p
  for p in $(sed -n 's/^ListenAddress .*:\([0-9]*\)$/\1/p' "$dir/sshd_config"); do
    wait_port "${address[$h]}" "$p" || die "sshd for $h is not listening on $p (see $dir/sshd.log)"
  done
}

stop_sshd() {
  local h=$1 i
  local pidfile=$root/hosts/$h/sshd.pid
  if pid_alive "$pidfile"; then
    local pid children
    pid=$(<"$pidfile")
    # Its children serve the open connections (SSH masters among them): a
    # stopped or re-keyed host drops them, as a replaced machine would.
    children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    # shellcheck disable=SC2086
    kill "$pid" $children 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

start_registry() {
  local dir=$root/registry
  mkdir -p "$dir/data"
  pid_alive "$dir/registry.pid" && return 0
  if [[ ! -f "$dir/htpasswd" ]]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password"
    chmod 0600 "$dir/password"
    htpasswd -iBc "$dir/htpasswd" "$registry_user" <"$dir/password" 2>/dev/null
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$registry_port
auth:
  htpasswd:
    realm: berth-e2e
    path: $dir/htpasswd
EOF
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/registry.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$registry_port/v2/")" == 401 ]] &&
      return 0
    pid_alive "$dir/registry.pid" || break
    sleep 0.1
  done
  die "the registry did not come up (see $dir/registry.log)"
}

stop_registry() {
  local pidfile=$root/registry/registry.pid i
  if pid_alive "$pidfile"; then
    local pid
    pid=$(<"$pidfile")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# `exec` must run on the container's files, as on a real host. From a plain
# chroot it runs on the machine's instead (tests/e2e/host/own_root.cpp says
# why), and the tests that read or write files through exec would fail for a
# reason of this machine, not of berth: say so now, once.
exec_probe() {
  local name=berth-e2e-exec-probe seen
  podman_as local rm -f --time 0 "$name" >/dev/null 2>&1 || true
  podman_as local run -d --network none --name "$name" localhost/berth-demo:1 sleep 60 \
    >/dev/null || die "could not start a probe container"
  seen=$(podman_as local exec "$name" cat /www/index.html 2>/dev/null || true)
  podman_as local rm -f --time 0 "$name" >/dev/null 2>&1 || true
  [[ "$seen" == "hello from berth" ]] ||
    die "container exec does not see the container's files: / is a chroot that is not the" \
      "root of its mount namespace. Run through build/berth_own_root (scripts/test.sh does)."
}

# The demo image in every store, and privately in the registry.
images() {
  local h
  for h in local "${hosts[@]}"; do
    "$here/host/demo-image.sh" env BERTH_E2E_HOST="$h" "$root/bin/podman" ||
      die "could not build the demo image for $h"
  done
  exec_probe
  local auth=$root/registry/auth.json
  (
    umask 077
    printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$registry_port" \
      "$(printf '%s:%s' "$registry_user" "$(<"$root/registry/password")" | base64 -w0)" >"$auth"
  )
  podman_as local push --quiet --authfile "$auth" localhost/berth-demo:1 \
    "127.0.0.1:$registry_port/berth/demo:1" >/dev/null 2>"$root/registry/push.log" ||
    die "could not push the demo image (see $root/registry/push.log)"
  podman_as local push --quiet --authfile "$auth" localhost/berth-entry:1 \
    "127.0.0.1:$registry_port/berth/entry:1" >/dev/null 2>>"$root/registry/push.log" ||
    die "could not push the entry image (see $root/registry/push.log)"
}

write_json() {
  local h specs=()
  for h in "${hosts[@]}"; do specs+=("$h=${address[$h]}"); done
  python3 - "$root" "$ssh_port" "$registry_port" "$registry_user" "$here/env.sh" "$vm_port" \
    "${specs[@]}" <<'PY'
import json, os, sys
root, ssh_port, reg_port, reg_user, script, vm_port = sys.argv[1:7]
addresses = dict(spec.split("=", 1) for spec in sys.argv[7:])
names = list(addresses)
def host(n):
    d = os.path.join(root, "hosts", n)
    return {"name": n, "address": addresses[n], "port": int(ssh_port), "user": "root",
            "vm_port": int(vm_port) if vm_port else None, "vm_user": "ubuntu",
            "dir": d, "sshd_config": os.path.join(d, "sshd_config"),
            "sshd_log": os.path.join(d, "sshd.log"), "pid_file": os.path.join(d, "sshd.pid"),
            "host_key": os.path.join(d, "ssh_host_ed25519_key.pub"),
            "runtime_log": os.path.join(d, "runtime.log"), "gpu_log": os.path.join(d, "gpu.log")}
local_dir = os.path.join(root, "hosts", "local")
env = {
    "root": root,
    "script": script,
    "bin_dir": os.path.join(root, "bin"),
    "runtime": "podman",
    "authorized_keys": os.path.join(root, "keys", "authorized_keys"),
    "hosts": [host(n) for n in names],
    "local": {"name": "local", "address": "127.0.0.1", "dir": local_dir,
              "runtime_log": os.path.join(local_dir, "runtime.log")},
    "registry": {"address": "127.0.0.1:" + reg_port, "username": reg_user,
                 "password": open(os.path.join(root, "registry", "password")).read().strip(),
                 "image": "127.0.0.1:%s/berth/demo:1" % reg_port,
                 "entry_image": "127.0.0.1:%s/berth/entry:1" % reg_port},
    "demo_image": "localhost/berth-demo:1",
}
tmp = os.path.join(root, "env.json.tmp")
with open(tmp, "w") as f:
    json.dump(env, f, indent=2)
os.chmod(tmp, 0o600)
os.replace(tmp, os.path.join(root, "env.json"))
PY
}

read_ports() {
  ssh_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["port"])' \
    "$root/env.json")
  vm_port=$(python3 -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0].get("vm_port") or "")' \
    "$root/env.json")
  registry_port=$(python3 -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["registry"]["address"].split(":")[1])' \
    "$root/env.json")
}

healthy() {
  [[ -f "$root/env.json" ]] || return 1
  # Started by an env.sh without the VM port: start it again, the new way.
  grep -q '"vm_port"' "$root/env.json" || return 1
  read_ports
  local h
  pid_alive "$root/registry/registry.pid" || return 1
  for h in "${hosts[@]}"; do
    pid_alive "$root/hosts/$h/sshd.pid" || return 1
  done
}

cmd_start() {
  if healthy; then
    log "already running under $root"
    return 0
  fi
  cmd_stop_quietly
  mkdir -p /run/sshd "$root/keys"
  chmod 0755 /run/sshd
  touch "$root/keys/authorized_keys"
  local all_addresses=()
  local h
  for h in "${hosts[@]}"; do all_addresses+=("${address[$h]}"); done
  ssh_port=$(pick_port 2222 "${all_addresses[@]}")
  vm_port=22
  for h in "${hosts[@]}"; do
    port_free "${address[$h]}" 22 && continue
    log "port 22 is taken on ${address[$h]} (a system sshd on 0.0.0.0:22?):" \
      "the VM-provider tests cannot reach these hosts"
    vm_port=""
    break
  done
  [[ -z "$vm_port" ]] || acquire_vm_user
  registry_port=$(pick_port 5000 127.0.0.1)
  write_runtime
  local n=1
  for h in local "${hosts[@]}"; do
    write_store "$h" "$n"
    n=$((n + 1))
  done
  for h in "${hosts[@]}"; do
    write_sshd "$h"
    start_sshd "$h"
  done
  start_registry
  images
  write_json
  log "running under $root: hosts ${all_addresses[*]} ports $ssh_port${vm_port:+ and $vm_port}," \
    "registry 127.0.0.1:$registry_port"
}

remove_containers() {
  local h
  for h in local "${hosts[@]}"; do
    [[ -f "$root/hosts/$h/address" ]] || continue
    local ids
    ids=$(podman_as "$h" ps -aq 2>/dev/null || true)
    if [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086
      podman_as "$h" rm -f --time 0 $ids >/dev/null 2>&1 || log "could not remove containers on $h"
    fi
    podman_as "$h" volume prune -f >/dev/null 2>&1 || true
  done
}

cmd_stop() {
  local h
  for h in "${hosts[@]}"; do stop_sshd "$h"; done
  stop_registry
  remove_containers
  release_vm_user
  rm -f "$root/env.json"
  log "stopped"
}

# Leftovers of an environment that died half-way (pid files, containers).
cmd_stop_quietly() {
  local h
  for h in "${hosts[@]}"; do stop_sshd "$h"; done
  stop_registry
  remove_containers
}

cmd_status() {
  if healthy; then
    echo "running: $root/env.json"
  else
    echo "not running"
    return 1
  fi
}

known_host() {
  local h=${1:-}
  [[ -n "$h" && -n "${address[$h]:-}" && "$h" != local ]] || die "unknown host '$h' (h1..h4)"
  healthy || die "the environment is not running"
}

cmd_rekey() {
  known_host "${1:-}"
  local dir=$root/hosts/$1
  stop_sshd "$1"
  rm -f "$dir/ssh_host_ed25519_key" "$dir/ssh_host_ed25519_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C "berth-e2e-$1" -f "$dir/ssh_host_ed25519_key"
  start_sshd "$1"
}

cmd_restart() {
  known_host "${1:-}"
  stop_sshd "$1"
  start_sshd "$1"
}

cmd_stophost() {
  known_host "${1:-}"
  stop_sshd "$1"
}

# The other hosts must be up; this one may be stopped (that is the point).
cmd_starthost() {
  local h=${1:-}
  [[ -n "$h" && -n "${address[$h]:-}" && "$h" != local ]] || die "unknown host '$h' (h1..h4)"
  [[ -f "$root/env.json" && -f "$root/hosts/$h/sshd_config" ]] || die "the environment is not running"
  start_sshd "$h"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  rekey) cmd_rekey "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  stophost) cmd_stophost "${2:-}" ;;
  starthost) cmd_starthost "${2:-}" ;;
  *)
    echo "usage: env.sh start|stop|status|rekey HOST|restart HOST|stophost HOST|starthost HOST" >&2
    exit 2
    ;;
esac
