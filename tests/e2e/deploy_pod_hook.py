#!/usr/bin/env python3
"""Launch/terminate/status hook for the container-native mocks (runpod,
vastai), used by the deploy and watch end-to-end tests:
makes a launched pod real by starting its container with podman on the
e2e test host its SSH endpoint points at, removes it on terminate, and tells
the mock whether it still runs (so a container killed or exited on its host
reads as an exited pod at the provider, as the real APIs report it).
The VM mock (lambda) uses terminate alone: the end of a VM takes the
container berth started on it along (lambda_fixture.h).

Usage (as --on-launch-cmd / --on-terminate-cmd / --container-status-cmd):
  deploy_pod_hook.py launch|terminate|status ENV_JSON
The mock's JSON document arrives on stdin. Environment values are handed to
podman through its environment (-e NAME), never through its argv. `status`
prints running, exited, or unknown (podman could not tell).
"""
import json
import os
import subprocess
import sys


def main():
    action, env_json = sys.argv[1], sys.argv[2]
    doc = json.load(sys.stdin)
    env = json.load(open(env_json))
    host = next((h for h in env["hosts"] if h["address"] == doc["ssh_host"]), None)
    if host is None:
        sys.exit("no e2e host at %s" % doc["ssh_host"])
    podman = os.path.join(env["bin_dir"], "podman")
    penv = dict(os.environ, BERTH_E2E_HOST=host["name"], BERTH_E2E_ROOT=env["root"])
    name = doc["name"]
    if action == "terminate":
        subprocess.run([podman, "rm", "-f", "--time", "0", name], env=penv, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return
    if action == "status":
        done = subprocess.run([podman, "inspect", "--format", "{{.State.Running}}", name],
                              env=penv, check=False, capture_output=True, text=True)
        if done.returncode == 0:
            print("running" if done.stdout.strip() == "true" else "exited")
        elif "no such" in done.stderr.lower():
            print("exited")  # removed behind the provider's back
        else:
            print("unknown")
        return
    req = doc["request"]
    argv = [podman, "run", "-d", "--name", name]
    parts = name.split("-")
    if len(parts) >= 4 and parts[0] == "berth":
        argv += ["--label", "berth.deployment=" + "-".join(parts[1:-2]),
                 "--label", "berth.replica=" + parts[-2], "--label", "berth.hash=" + parts[-1]]
    for spec in req.get("ports") or []:
        num = str(spec).split("/")[0]
        if num != "22":
            argv += ["-p", "%s:%s" % (num, num)]
    for key, value in (req.get("env") or {}).items():
        if key == "PUBLIC_KEY":
            continue
        penv[key] = str(value)
        argv += ["-e", key]
    # The template's entrypoint and command, as the provider would run them.
    if req.get("entrypoint"):
        argv += ["--entrypoint", json.dumps(req["entrypoint"])]
    argv.append(req.get("image") or req.get("imageName"))
    argv += [str(a) for a in req.get("args") or []]
    subprocess.run(argv, env=penv, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
