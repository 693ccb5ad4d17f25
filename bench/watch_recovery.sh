#!/usr/bin/env bash
# Failure-to-healthy latency of `berth watch`: a RunPod mock (zero latency)
# whose pods are real containers on the end-to-end hosts (tests/e2e/env.sh),
# a template with `interval: 1s, failures: 2`, and N injected failures (the
# health endpoint starts answering 404 inside the running container). For each
# one it records, from berth's own JSON events:
#   detect  = failure event time - injection time   (goal: <= 1s x 2 + 1s = 3s)
#   replace = healthy event time - injection time   (goal: <= 10s after detection)
#
#   BERTH_E2E_ROOT=/tmp/berth-e2e bash tests/e2e/env.sh start
#   BERTH_E2E_ROOT=/tmp/berth-e2e bench/watch_recovery.sh build/berth [N]
set -euo pipefail
berth=$(realpath "${1:?usage: watch_recovery.sh BERTH_BINARY [N]}")
n=${2:-10}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${BERTH_E2E_ROOT:?start the e2e environment first (tests/e2e/env.sh start)}"
root=$BERTH_E2E_ROOT
hook=${BERTH_POD_HOOK:-$here/tests/e2e/deploy_pod_hook.py}
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-watch-recovery.XXXXXX")
mock_pid=
watch_pid=
cleanup() {
  [[ -n "$watch_pid" ]] && kill "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null
  [[ -n "$mock_pid" ]] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["port"])' "$root/env.json"; }
# The environment's third and fourth hosts (BERTH_E2E_NET may have moved them).
address() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][int(sys.argv[2])]["address"])' "$root/env.json" "$1"; }
ssh_port=$(port)
python3 "$here/providers/runpod/mock.py" --port 0 --port-file "$work/port" \
  --ssh-host "$(address 2):$ssh_port" --ssh-host "$(address 3):$ssh_port" \
  --on-launch-cmd "$hook launch $root/env.json" \
  --on-terminate-cmd "$hook terminate $root/env.json" >"$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
cat >"$work/config.yaml" <<EOF
providers:
  runpod: {type: runpod, api_key: "\${RUNPOD_KEY}", base_url: "http://127.0.0.1:$(cat "$work/port")"}
runtime: docker
EOF
cat >"$work/app.yaml" <<'EOF'
name: recovery-bench
image: localhost/berth-demo:1
ports: [{container: 8000, host: 8000}]
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 1s, failures: 2, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [runpod]}
restart: {max_restarts: 1000, window: 1h, backoff: 1s..1s}
EOF
export XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config RUNPOD_KEY=test-key
export BERTH_CONFIG=$work/config.yaml
"$berth" watch "$work/app.yaml" -o json --down-on-exit 2>"$work/events.jsonl" &
watch_pid=$!

now_ms() { date +%s%3N; }
# Waits for the count-th event of this kind; prints its time in ms.
wait_event() {
  local kind=$1 count=$2 i
  for i in $(seq 600); do
    local t
    t=$(python3 - "$work/events.jsonl" "$kind" "$count" <<'PY'
import json, sys, datetime
path, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = [json.loads(l) for l in open(path) if l.startswith("{")]
hits = [e for e in seen if e["event"] == kind]
if len(hits) >= count:
    t = datetime.datetime.strptime(hits[count - 1]["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))
PY
)
    [[ -n "$t" ]] && { echo "$t"; return 0; }
    sleep 0.1
  done
  echo "timed out waiting for $kind #$count" >&2
  cat "$work/events.jsonl" >&2
  return 1
}

wait_event healthy 1 >/dev/null
printf '%-4s %10s %10s\n' run detect_s replace_s
detects=()
replaces=()
for i in $(seq "$n"); do
  sleep 2  # let the replica settle into its healthy polling
  id=$(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print([e for e in ev if e["event"] == "healthy"][-1]["instance_id"])' "$work/events.jsonl")
  host=$(curl -s "http://127.0.0.1:$(cat "$work/port")/_mock/instances" | python3 -c '
import json, sys
print(next(i["ssh_host"] for i in json.load(sys.stdin) if i["id"] == sys.argv[1]))' "$id")
  name=$(python3 - "$root/env.json" "$host" <<'PY'
import json, sys
print(next(h["name"] for h in json.load(open(sys.argv[1]))["hosts"] if h["address"] == sys.argv[2]))
PY
)
  container=$(BERTH_E2E_HOST=$name "$root/bin/podman" ps --format '{{.Names}}' |
    grep '^berth-recovery-bench-0-' | head -1)
  t0=$(now_ms)
  BERTH_E2E_HOST=$name "$root/bin/podman" exec "$container" rm /www/health
  t_fail=$(wait_event failure "$i")
  t_ok=$(wait_event healthy $((i + 1)))
  d=$(echo "scale=2; ($t_fail - $t0) / 1000" | bc)
  r=$(echo "scale=2; ($t_ok - $t0) / 1000" | bc)
  detects+=("$d")
  replaces+=("$r")
  printf '%-4s %10s %10s\n' "$i" "$d" "$r"
done
summary() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {
    printf "min %.2f  median %.2f  p90 %.2f  max %.2f\n", a[1], a[int((NR+1)/2)], a[int(NR*0.9+0.999)], a[NR]}'
}
echo "detect:  $(summary "${detects[@]}")"
echo "replace: $(summary "${replaces[@]}")"
kill -TERM "$watch_pid"
wait "$watch_pid" || true
watch_pid=
leaked=$(curl -s "http://127.0.0.1:$(cat "$work/port")/_mock/instances" |
  python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin) if not i["terminated"]))')
echo "instances left at the mock after --down-on-exit: $leaked"
