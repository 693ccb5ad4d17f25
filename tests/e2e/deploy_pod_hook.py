#!/usr/bin/env python3
"""Launch/terminate/status hook for the container-native mocks (runpod,
vastai), used by the deploy and watch end-to-end tests:
makes a launched pod real by starting its container with podman on the
e2e test host its SSH endpoint points at, the way the provider would start
it from the create request the mock recorded; removes it on terminate; and
tells the mock whether it still runs (so a container killed or exited on its
host reads as an exited pod at the provider, as the real APIs report it).
The VM mock (lambda) uses terminate alone: the end of a VM takes the
container berth started on it along (lambda_fixture.h).

Usage (as --on-launch-cmd / --on-terminate-cmd / --container-status-cmd /
--container-logs-cmd):
  deploy_pod_hook.py launch|terminate|status|logs ENV_JSON
The mock's JSON document arrives on stdin. `status` prints running, exited,
or unknown (podman could not tell). `logs` prints the container's last
"tail" lines, stdout and stderr as podman interleaves them: the log the
provider's logs endpoint serves.

How the container starts:
  RunPod (runpod/docs api-reference-v2/openapi.json @ a900806e; the
  "container start command" of pods/templates/manage-templates.mdx
  @ 24b395b2): the image's own ENTRYPOINT, with `args` (one string) as its
  command in place of the image's CMD. `args` may be a JSON object
  {"cmd": [...], "entrypoint": [...]}: "entrypoint" replaces the image's
  ENTRYPOINT (podman takes a JSON array for --entrypoint) and "cmd" is the
  command. Any other string is split like a shell would (shlex).
  Vast (vast-ai/docs api-reference/creating-instances-with-api.mdx
  @ 1ee047d7, "Entrypoint Behavior"): the ssh and jupyter runtypes REPLACE
  the image's ENTRYPOINT with Vast's own init, which runs `onstart` and
  keeps the container up; emulated with --entrypoint /bin/sh -c
  '<onstart>\n<sleep forever>'. Runtype `args` keeps the image's ENTRYPOINT
  and replaces its CMD with `args` (an array, per the API document) or
  `args_str` (a string).
  Private images: RunPod's request names a registry credential, which the
  mock hands over as "registry_credential" {username, password}; Vast's
  request carries image_login "-u USER -p PASS [REGISTRY]". Either way the
  image is pulled with a podman auth file written 0600 in a private
  temporary directory (removed afterwards) and named by --authfile=PATH:
  the password is on no command line.
Environment values reach podman through its environment (-e NAME), never
its argv; requested ports are published on the host's own address; berth's
container names become the labels berth itself would set.
"""
import base64
import json
import os
import shlex
import subprocess
import sys
import tempfile

# Vast's own init stays up whatever onstart does; so does this.
KEEP_ALIVE = "while :; do sleep 3600; done"


def labels(name):
    """berth-<deployment>-<replica>-<hash>: the labels berth sets itself."""
    parts = name.split("-")
    if len(parts) >= 4 and parts[0] == "berth":
        return ["--label", "berth.deployment=" + "-".join(parts[1:-2]),
                "--label", "berth.replica=" + parts[-2], "--label", "berth.hash=" + parts[-1]]
    return []


def image_registry(image):
    """The registry an image reference pulls from, as an auth file keys it."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def parse_image_login(text):
    """(user, password, registry or None) from Vast's image_login, docker
    login's arguments ("-u USER -p PASS [REGISTRY]"). Split on whitespace:
    no document says how Vast splits it (unverified)."""
    user = password = registry = None
    words = text.split()
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-u", "--username") and i + 1 < len(words):
            user, i = words[i + 1], i + 2
        elif w in ("-p", "--password") and i + 1 < len(words):
            password, i = words[i + 1], i + 2
        elif w.startswith("--username="):
            user, i = w.split("=", 1)[1], i + 1
        elif w.startswith("--password="):
            password, i = w.split("=", 1)[1], i + 1
        else:
            registry, i = w, i + 1
    return user, password, registry


def write_authfile(directory, registry, user, password):
    """A podman/docker auth file readable only by us; returns its path."""
    path = os.path.join(directory, "auth.json")
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"auths": {registry: {"auth": token}}}, f)
    return path


def runpod_start(req):
    """(entrypoint override or None, command or None = the image's CMD)."""
    args = req.get("args")
    if not args:
        return None, None
    try:
        form = json.loads(args)
    except ValueError:
        form = None
    if isinstance(form, dict) and ("cmd" in form or "entrypoint" in form):
        entrypoint = form.get("entrypoint")
        cmd = form.get("cmd")
        # As with docker, a new entrypoint drops the image's CMD.
        return (json.dumps(entrypoint) if entrypoint is not None else None,
                [str(a) for a in cmd] if cmd is not None else ([] if entrypoint else None))
    # Unverified: no document says how RunPod splits a plain command line;
    # shell-like splitting fits its own example (bash -c 'mkdir ... && ...').
    return None, shlex.split(args)


def vast_start(req, runtype):
    """(entrypoint override or None, command or None = the image's CMD)."""
    if runtype != "args":
        script = (req.get("onstart") or "").rstrip()
        # A newline, not "; ": onstart may end in "&" or a comment.
        return "/bin/sh", ["-c", (script + "\n" if script else "") + KEEP_ALIVE]
    entrypoint = None
    if req.get("onstart"):
        # Vast's CLI documents --entrypoint for args launches and sends it
        # as onstart (vast-ai/vast-cli vast.py create__instance @ 55679830);
        # split like a shell would (unverified).
        entrypoint = json.dumps(shlex.split(req["onstart"]))
    if req.get("args") is not None:
        return entrypoint, [str(a) for a in req["args"]]
    if req.get("args_str") is not None:
        # Unverified: no document says how Vast splits args_str.
        return entrypoint, shlex.split(req["args_str"])
    return entrypoint, ([] if entrypoint else None)


def launch_argv(doc, podman, scratch):
    """(argv, environment additions) that start the pod's container;
    `scratch` is a private directory for the auth file."""
    req = doc["request"]
    name = doc["name"]
    image = req.get("image") or req.get("imageName")
    argv = [podman, "run", "-d", "--name", name] + labels(name)
    extra_env = {}
    if doc["provider"] == "vastai":
        env = req.get("env") or {}
        ports = [k[3:].strip() for k in env if k.startswith("-p ")]
        entrypoint, command = vast_start(req, doc.get("runtype") or "ssh")
        login = parse_image_login(req["image_login"]) if req.get("image_login") else None
    else:
        env = req.get("env") or {}
        ports = ["%s:%s" % ((str(p).split("/")[0],) * 2) for p in req.get("ports") or []]
        entrypoint, command = runpod_start(req)
        cred = doc.get("registry_credential")
        login = (cred["username"], cred["password"], None) if cred else None
        # mounts.network: the network volume's files (the mock says where).
        dirs = doc.get("network_volume_dirs") or {}
        for mount in ((req.get("mounts") or {}).get("network") or []):
            argv += ["-v", "%s:%s" % (dirs[mount["volumeId"]], mount["path"])]
    for spec in ports:
        if spec.split(":")[0] != "22":  # the host's own sshd is the pod's SSH endpoint
            argv += ["-p", spec]
    for key, value in env.items():
        # PUBLIC_KEY feeds the image's sshd, which the e2e host's sshd
        # stands in for; Vast's "-p ..." style keys are docker options.
        if key == "PUBLIC_KEY" or key.startswith("-"):
            continue
        extra_env[key] = str(value)
        argv += ["-e", key]
    if login:
        user, password, registry = login
        path = write_authfile(scratch, registry or image_registry(image), user, password)
        argv.append("--authfile=" + path)  # one word: the runtime wrapper keeps it an option
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    argv.append(image)
    argv += command or []
    return argv, extra_env


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
    if action == "logs":
        done = subprocess.run([podman, "logs", "--tail", str(int(doc.get("tail", 100))), name],
                              env=penv, check=False, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        sys.stdout.buffer.write(done.stdout)
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
    with tempfile.TemporaryDirectory(prefix="berth-pod-hook.") as scratch:
        argv, extra_env = launch_argv(doc, podman, scratch)
        penv.update(extra_env)
        subprocess.run(argv, env=penv, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
