#!/usr/bin/env python3
"""Vast.ai API mock (wire format of vast-ai/docs api-reference/openapi.yaml
@ c6246226 and what Vast's CLI and peers observe in the wild).

Point berth's base_url at http://127.0.0.1:PORT (paths /api/v0/..., /api/v1/...).
Reproduced: Bearer auth (legacy ?api_key= also honoured); trailing slashes
accepted with or without, except GET /api/v1/instances, which is answered
301 with Location: http://HOST/api/v1/instances/?<same query> (documented
clients call it with the slash; the redirect is what a web server does for a
missing slash, no document describes it: unverified). POST /api/v0/bundles/
takes operator-object filters (eq, neq, gt, gte, lt, lte, in, notin) and
filters, orders and limits server-side; `type` accepts "on-demand",
"ondemand" and "bid"; offer units: gpu_ram MB per GPU, cpu_ram MB for the
whole machine, disk_space GB, dph_total USD/h, compute_cap = CC x 100; some
numbers arrive as strings. Renting (PUT /api/v0/asks/<id>/) answers
{"success": true, "new_contract": <id>}; an ask that is gone answers 404
invalid_args/"no_such_ask" (ask never existed) or 410 no_such_ask (rented
meanwhile). GET /api/v0/instances/<id>/ answers {"instances": {...}} (ONE
object under a plural key; null when unknown); actual_status goes null ->
"loading" -> "running"; `ports` is a docker-style dict with STRING HostPort
values, only once running; public_ipaddr carries a trailing newline, as
Vast's does. Listing: GET /api/v1/instances/ (keyset pages of at most 25,
next_token/after_token) and the legacy GET /api/v0/instances/. DELETE
answers {"success": true}, or 404 {"success": false, "error": "not_found"}
for unknown ids. Errors use {"success": false, "error": code, "msg": text};
401 for a bad key.

Rent requests are validated against the document's createInstance body
(api_schema.json); a violation is answered 400 {"success": false,
"error": "invalid_args", "msg": "Invalid args: <violations>"} and recorded in
/_mock/violations. The document allows unknown fields (dstack and Vast's CLI
send "client_id": "me"). Where Vast's own client (vast-ai/vast-cli vast.py
@ 55679830) sends what the document forbids, the client is followed:
  - null for every option left unset: null fields count as absent;
  - `env` as an object ({"KEY": "value", "-p 8000:8000": "1"}, what the CLI
    sends after parsing its docker-flag string, and what the docs' own
    creating-instances-with-api.mdx calls the only right form) besides the
    document's docker-flag string ("-e KEY=value -p 8000:8000", split on
    spaces the way the CLI does); object values must be strings;
  - runtype as the CLI's space-separated words ("ssh_direc ssh_proxy",
    "jupyter_direc ssh_direc ssh_proxy", "jupyter_proxy ssh_proxy").
Without runtype, a request with args or args_str is an `args` launch, any
other an `ssh` one (the document's default). Every env value is at most 256
characters; a longer one is refused with invalid_args (recorded).
/_mock/instances shows the env as parsed.

Logs (PUT /api/v0/instances/request_logs/<id>, showLogs): the body is
validated against the document's (api_schema.json; `tail` is a STRING;
400 invalid_args and recorded otherwise); unknown instances answer 404
{"error": "invalid_id", "msg": "Invalid instance id."}. The answer is
{"success": true, "result_url": "http://127.0.0.1:PORT/instance_logs/<hex>.log",
"msg": ...}: like Vast's S3 object the URL needs no key, and it answers 404
(S3's NoSuchKey, XML) until the log is "uploaded", --log-upload-seconds
(default 0) after the request. The file is the last `tail` lines of the
container's log (see mock_base's --container-logs-cmd), or the control
API's raw body as it is.

Keys: POST /api/v0/ssh/ {"ssh_key"} (createSshKey) answers {"success": true,
"key": {"id", "user_id", "public_key", "created_at", "deleted_at"}}; without
a ssh_key string it is 400 {"success": false, "error": "no_ssh_key"}; adding
a key twice answers 400 invalid_args "already exists" (assumed). GET
/api/v0/ssh/ answers a bare array of {"id", "user_id", "key", "created_at",
"deleted_at"} (the document names the field `key` here), or 404 when the
account has none (as the document lists; its body is not documented).

Rate limits: --min-interval OP=S answers plain text "API requests too
frequent endpoint threshold=S" without Retry-After, as Vast often does; for
the launch (`--min-interval launch=S` or `--rate-limit launch=4.5:12`, Vast's
threshold and penalty) the body is the document's createInstance 429 JSON
{"detail": "API requests too frequent endpoint threshold=4.5"}, also without
Retry-After.

A launch that fails yet made an instance: a fault on op "launch" with
"create_anyway": true, e.g. {"op": "launch", "status": 500, "create_anyway":
true, "body": {"success": false, "error": "...", "msg": "..."}} rents the
ask (the instance bills and is listed everywhere) and answers the fault,
with "new_contract": <the instance id> added to its body (default body
{"success": false, "error": "invalid_args", "msg": ...}). That an error can
carry new_contract is reported of Vast by its users; no document shows one
(unverified).

Instances are containers. This mock does not run them: an instance is the
rent request (image, env, onstart, label) plus the next --ssh-host endpoint,
reported as public_ipaddr and ports["22/tcp"][0].HostPort. Every "-p C:C" in
env is reported as HostPort C on the same host. Tests that need the container
to exist pass --on-launch-cmd (the JSON on stdin carries the full rent
request, env parsed, and "runtype": the documented runtype the request
amounts to: ssh, ssh_direct, ssh_proxy, jupyter, jupyter_direct,
jupyter_proxy or args) and --on-terminate-cmd.

Interruptible (bid) instances, as the document describes them: a search
with "type": "bid" answers the same asks priced at their minimum bid (the
document: bid "uses minimum bid price"): dph_total = min_bid plus the ask's
storage share (dph_total - dph_base), and "is_bid": true; filters and order
apply to those prices. A rent with `price` (the document: "Bid price per
machine (in $/hour). Only for interruptible instances", 0.001..128, checked
by the schema) makes an interruptible instance ("is_bid": true, its
dph_total the bid plus storage); a bid below the ask's min_bid is refused
400 {"error": "invalid_price"} (the code is the document's; the message and
that min_bid is the floor are not documented: unverified). The document
does not say how an outbid instance reads; the mock shows it as Vast's SDK
documents a stopped contract: pin it with
{"status": "exited", "cur_state": "stopped", "status_msg": "..."}
(intended_status stays "running": the renter did not stop it; unverified).

Fault ops: offers, launch, get, list, terminate, ssh-keys, user.
Statuses for /_mock/instances/<id>/state (the value of actual_status):
loading, running, created, exited, offline, unknown. "status_msg" pins the
instance's status_msg with it, e.g. {"status": "created", "status_msg":
"Error response from daemon: OCI runtime create failed: ..."}, how Vast
reports a container that could not start.
"""

import json
import random
import time
import re

import os
import sys

# The shared mock server lives in providers/common/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
import mock_base  # noqa: E402
from mock_base import Reply  # noqa: E402

# The longest env value Vast takes (not in its document: unverified).
ENV_VALUE_MAX = 256

# Runtype words Vast's CLI sends (vast-ai/vast-cli vast.py get_runtype
# @ 55679830): "ssh_proxy", "ssh_direc ssh_proxy", "jupyter_proxy ssh_proxy",
# "jupyter_direc ssh_direc ssh_proxy". Not in the document's runtype enum,
# but its instance listing shows the same form (image_runtype "ssh ssh_direc
# ssh_proxy"), so the server takes them.
CLI_RUNTYPE_WORDS = {"ssh", "ssh_proxy", "ssh_direc", "jupyter_proxy", "jupyter_direc"}


def err(status, code, msg, **extra):
    body = {"success": False, "error": code, "msg": msg}
    body.update(extra)
    return Reply(status, body)


def offer(oid, gpu_name, num, gpu_ram, cc, cores, eff, cpu_ram, disk, dph, geo, cuda,
          verified=True, rented=False, direct_ports=100):
    return {"id": oid, "ask_contract_id": oid, "machine_id": oid // 10, "host_id": 4000 + oid % 97,
            "bundle_id": oid * 3, "gpu_name": gpu_name, "num_gpus": num, "gpu_ram": gpu_ram,
            "gpu_total_ram": int(gpu_ram) * num, "gpu_frac": 1.0, "gpu_arch": "nvidia",
            "compute_cap": cc, "cpu_name": "AMD EPYC 7763 64-Core Processor",
            "cpu_cores": cores, "cpu_cores_effective": eff, "cpu_ram": cpu_ram,
            "cpu_arch": "amd64", "disk_space": disk, "disk_bw": 3200.5, "disk_name": "nvme",
            "dph_base": round(float(dph) * 0.93, 4), "dph_total": dph,
            "min_bid": round(float(dph) * 0.5, 4),
            "storage_cost": 0.1, "inet_up": 800.2, "inet_down": 900.7,
            "inet_up_cost": 0.0, "inet_down_cost": 0.0, "reliability": 0.993,
            "reliability2": 0.993, "geolocation": geo, "geolocode": 1,
            "verification": "verified" if verified else "unverified", "verified": verified,
            "rentable": True, "rented": rented, "direct_port_count": direct_ports,
            "cuda_max_good": cuda, "driver_version": "550.54.14",
            "public_ipaddr": "203.0.113.%d" % (oid % 250), "hosting_type": 0,
            "datacenter": None, "static_ip": True, "external": False, "is_bid": False,
            "pci_gen": 4.0, "pcie_bw": 25.1, "total_flops": 82.6, "dlperf": 48.3,
            "dlperf_per_dphtotal": 120.1, "duration": 2592000.0, "end_date": None,
            "start_date": 1764460800.0, "os_version": "22.04", "mobo_name": "ROME2D16",
            "has_avx": 1, "score": 180.4, "time_remaining": "", "time_remaining_isbid": "",
            "webpage": None, "logo": "/static/logos/vastai_small2.png", "vms_enabled": False,
            "search": {"gpuCostPerHour": float(dph), "diskHour": 0.01, "totalHour": float(dph),
                       "discountTotalHour": 0, "discountedTotalPerHour": float(dph)}}


OPS = {"eq": lambda a, b: a == b, "neq": lambda a, b: a != b,
       "gt": lambda a, b: a is not None and a > b, "gte": lambda a, b: a is not None and a >= b,
       "lt": lambda a, b: a is not None and a < b, "lte": lambda a, b: a is not None and a <= b,
       "in": lambda a, b: a in b, "notin": lambda a, b: a not in b}


def number(v):
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def runtype_of(body):
    """The documented runtype a rent request amounts to."""
    rt = body.get("runtype")
    if rt is None:
        has_args = body.get("args") is not None or body.get("args_str") is not None
        return "args" if has_args else "ssh"
    words = rt.split() if isinstance(rt, str) else []
    if len(words) > 1 and set(words) <= CLI_RUNTYPE_WORDS:
        if "jupyter_direc" in words:
            return "jupyter_direct"
        if "jupyter_proxy" in words:
            return "jupyter_proxy"
        return "ssh_direct" if "ssh_direc" in words else "ssh_proxy"
    return rt


def parse_env_string(text):
    """Vast CLI's rules: split on spaces, '-e K=V' and '-p PORTS' pairs."""
    result = {}
    words = text.split(" ")
    prev = None
    for w in words:
        if prev is None:
            if w in ("-e", "-p", "-h"):
                prev = w
            elif w:
                break
        else:
            if prev == "-p":
                result["-p " + w] = "1"
            elif prev == "-e":
                k, _, v = w.partition("=")
                result[k] = v.strip("'\"")
            else:
                result[prev] = w
            prev = None
    return result


class VastMock(mock_base.MockApi):
    """Vast.ai API mock."""

    provider = "vastai"

    def default_catalog(self):
        return {"offers": [
            offer(1001, "RTX 4090", 1, 24564, 890, 32, 8.0, 128000, 150.5, 0.35, "Texas, US",
                  12.4),
            offer(1002, "RTX 4090", 2, 24564, "890", 64, "32.0", 257000, 400.0, "0.71",
                  "Quebec, CA", "12.8"),  # string-typed numbers
            offer(1003, "H100 SXM", 8, 81559, 900, 224, 224.0, 2063000, 2000.0, 19.2,
                  "Oregon, US", 12.8),
            offer(1004, "A100 PCIE", 1, 81920, 800, 48, 24.0, 193000, 200.0, 1.05, "Sweden",
                  12.2),
            offer(1005, "RTX 3090", 1, 24576, 860, 16, 16.0, 64000, 80.0, 0.18, "Poland, PL",
                  12.2, verified=False),
            offer(1006, "ZZ 9000", 1, 49140, 950, 16, 16.0, 64000, 80.0, 0.55, "Texas, US", 12.8),
            offer(1007, "RTX 4090", 1, 24564, 890, 32, 8.0, 128000, 150.5, 0.30, "Texas, US",
                  12.4, rented=True),
        ]}

    def extra_reset(self):
        self.log_files = {}  # token -> (monotonic time it is there, bytes)
        self.ssh_keys = []
        self.next_contract = 9000001

    @staticmethod
    def add_arguments(p):
        p.add_argument("--log-upload-seconds", type=float, default=0.0)

    def authorized(self, handler):
        if handler.path.startswith("/instance_logs/"):
            return True  # a presigned object URL: no key
        if handler.headers.get("Authorization", "") == "Bearer " + self.args.api_key:
            return True
        q = handler.path.partition("?")[2]
        return ("api_key=" + self.args.api_key) in q.split("&")

    def rate_limited(self, op):
        # No Retry-After on any of them, as Vast answers.
        text = "API requests too frequent endpoint threshold=%g" % (self.limit_of(op) or 4.5)
        if op == "launch":  # the document's createInstance 429
            return Reply(429, {"detail": text})
        return Reply(429, text, content_type="text/plain")

    def redirect(self, method, path, query_string, handler):
        if path != "/api/v1/instances":
            return None
        host = handler.headers.get("Host") or "127.0.0.1"
        target = "http://%s/api/v1/instances/" % host
        if query_string:
            target += "?" + query_string
        return Reply(301, None, {"Location": target})

    def created_anyway(self, op, fault, reply):
        out = super().created_anyway(op, fault, reply)
        made = reply.body.get("new_contract") if isinstance(reply.body, dict) else None
        if made is not None:
            body = out.body if out.body is not None else {
                "success": False, "error": "invalid_args",
                "msg": "error %d: instance %s was created but could not be started"
                       % (out.status, made)}
            if isinstance(body, dict):
                out.body = dict(body, new_contract=made)
        return out

    def unauthorized(self):
        return err(401, "auth_error", "Invalid user key")

    def not_found(self, method, path):
        return err(404, "not_found", "%s %s not found" % (method, path))

    def route(self, method, path, query, body):
        p = path.rstrip("/")
        if method == "POST" and p == "/api/v0/bundles":
            return "offers", lambda: self.search(body)
        if method == "GET" and p == "/api/v0/bundles":
            q = query.get("q", ["{}"])[0]
            return "offers", lambda: self.search(json.loads(q))
        if method == "GET" and p == "/api/v0/users/current":
            return "user", lambda: Reply(200, {"id": 77, "username": "berth-test",
                                                "credit": 25.0, "balance": 0.0})
        if method == "POST" and p == "/api/v0/ssh":
            return "ssh-keys", lambda: self.add_key(body)
        if method == "GET" and p == "/api/v0/ssh":
            return "ssh-keys", self.list_keys
        m = re.fullmatch(r"/api/v0/asks/([^/]+)", p)
        if method == "PUT" and m:
            return "launch", lambda: self.rent(m.group(1), body)
        if method == "GET" and p == "/api/v1/instances":
            return "list", lambda: self.list_v1(query)
        if method == "GET" and p == "/api/v0/instances":
            return "list", self.list_v0
        m = re.fullmatch(r"/api/v0/instances/request_logs/([^/]+)", p)
        if m and method == "PUT":
            return "logs", lambda: self.request_logs(m.group(1), body)
        m = re.fullmatch(r"/instance_logs/([0-9a-f]+)\.log", p)
        if m and method == "GET":
            return "log-file", lambda: self.log_file(m.group(1))
        m = re.fullmatch(r"/api/v0/instances/([^/]+)", p)
        if m and method == "GET":
            return "get", lambda: self.get(m.group(1))
        if m and method == "DELETE":
            return "terminate", lambda: self.destroy(m.group(1))
        return None

    # --- offers --------------------------------------------------------------
    def search(self, q):
        if not isinstance(q, dict):
            return err(400, "invalid_args", "query must be a JSON object")
        kind = q.get("type", "on-demand")
        if kind not in ("on-demand", "ondemand", "bid", "reserved"):
            return err(400, "invalid_args", "unknown offer type %r" % kind)
        filters = []
        for field, cond in q.items():
            if field in ("type", "order", "limit", "allocated_storage", "sort_option"):
                continue
            if not isinstance(cond, dict) or not cond:
                return err(400, "invalid_args",
                           "filter %r must be an operator object like {\"eq\": ...}" % field)
            for op, value in cond.items():
                if op not in OPS:
                    return err(400, "invalid_args", "unknown operator %r for %r" % (op, field))
                filters.append((field, op, value))
        out = []
        for o in (self.catalog or {}).get("offers", []):
            if kind == "bid":
                o = self.as_bid(o)
                if o is None:
                    continue
            ok = True
            for field, op, value in filters:
                have = number(o.get(field))
                want = [number(x) for x in value] if isinstance(value, list) else number(value)
                try:
                    if not OPS[op](have, want):
                        ok = False
                        break
                except TypeError:
                    ok = False
                    break
            if ok:
                out.append(o)
        for field, direction in reversed(q.get("order") or []):
            out.sort(key=lambda o: number(o.get(field)) or 0, reverse=(direction == "desc"))
        limit = q.get("limit")
        if isinstance(limit, int):
            out = out[:limit]
        return Reply(200, {"offers": out})

    @staticmethod
    def as_bid(o):
        """The ask as a bid search shows it: priced at its minimum bid."""
        min_bid = number(o.get("min_bid"))
        if not isinstance(min_bid, (int, float)):
            return None
        storage = max(0.0, float(number(o.get("dph_total")) or 0) -
                      float(number(o.get("dph_base")) or 0))
        return dict(o, dph_total=round(min_bid + storage, 4), is_bid=True)

    # --- keys ----------------------------------------------------------------
    def add_key(self, body):
        errors = self.violations_of("createSshKey", body)
        if errors:
            return err(400, "no_ssh_key", "No ssh key provided (%s)" % "; ".join(errors))
        key = body["ssh_key"]
        if not re.match(r"(ssh-|ecdsa-|sk-)\S+ \S+", key):
            return err(400, "invalid_args", "ssh_key must be an OpenSSH public key")
        with self.lock:
            for k in self.ssh_keys:
                if k["key"] == key:
                    return err(400, "invalid_args", "SSH key already exists for this user")
            k = {"id": len(self.ssh_keys) + 1, "user_id": 77, "key": key,
                 "created_at": "2026-11-30T00:00:00Z", "deleted_at": None}
            self.ssh_keys.append(k)
        # The create answer names the key `public_key`, the listing `key`.
        answer = {"id": k["id"], "user_id": k["user_id"], "public_key": key,
                  "created_at": k["created_at"], "deleted_at": None}
        return Reply(200, {"success": True, "key": answer})

    def list_keys(self):
        with self.lock:
            keys = [dict(k) for k in self.ssh_keys]
        if not keys:  # the document's 404 "No SSH keys found for the user."
            return err(404, "not_found", "No SSH keys found for the user.")
        return Reply(200, keys)

    # --- instances -----------------------------------------------------------
    def find_offer(self, oid):
        for o in (self.catalog or {}).get("offers", []):
            if str(o.get("id")) == str(oid):
                return o
        return None

    def rent(self, ask_id, body):
        errors, env = self.check_rent(body)
        if errors:
            self.record_violation("createInstance", errors)
            return err(400, "invalid_args", "Invalid args: " + "; ".join(errors))
        o = self.find_offer(ask_id)
        if o is None:
            return err(404, "invalid_args",
                       "error 404/3603: no_such_ask Instance type by id %s is not available."
                       % ask_id, ask_id=int(ask_id) if ask_id.isdigit() else ask_id)
        if o.get("rented"):
            return err(410, "no_such_ask",
                       "error 410/3907: no_such_ask Instance type %s is no longer available."
                       % ask_id, ask_id=o["id"])
        bid = body.get("price")
        if bid is not None:
            min_bid = number(o.get("min_bid"))
            if isinstance(min_bid, (int, float)) and bid < min_bid:
                return err(400, "invalid_price",
                           "error 400: bid price %g is below the minimum bid %g for ask %s."
                           % (bid, min_bid, ask_id), ask_id=o["id"])
        runtype = runtype_of(body)
        if runtype.startswith("ssh") and not self.ssh_keys:
            return err(400, "no_ssh_key_for_vm", "No SSH key found for this account.")
        request = dict(body)
        request["env"] = env
        with self.lock:
            cid = self.next_contract
            self.next_contract += 1
            o["rented"] = True  # the ask is taken now
        self.add_instance(str(cid), body.get("label"), request,
                          {"offer": o, "runtype": runtype, "bid": bid})
        return Reply(200, {"success": True, "new_contract": cid,
                           "instance_api_key": "instkey-%d" % cid})

    def check_body(self, operation, body):
        if operation == "createInstance":
            return self.check_rent(body)[0]
        return super().check_body(operation, body)

    def check_rent(self, body):
        """(violations, env as a dict) of a rent request: the document's
        schema after the client deviations the module docstring lists, and
        the env value limit."""
        if not isinstance(body, dict):
            return self.schemas.violations("createInstance", body), {}
        # Vast's CLI sends null for every unset option; the server takes
        # them as absent (the document types them string, number, ...).
        checked = {k: v for k, v in body.items() if v is not None}
        env = checked.get("env")
        errors = []
        if isinstance(env, dict):  # the CLI's (and the docs' prose) form
            del checked["env"]
            for k, v in env.items():
                if not isinstance(v, str):
                    errors.append("env.%s: %r is not of type 'string'" % (k, v))
        if isinstance(checked.get("runtype"), str):
            checked["runtype"] = runtype_of(checked)  # the CLI's word lists
        errors = self.schemas.violations("createInstance", checked) + errors
        if isinstance(env, str):
            env = parse_env_string(env)
        elif not isinstance(env, dict):
            env = {}
        for k, v in env.items():
            if isinstance(v, str) and len(v) > ENV_VALUE_MAX:
                errors.append("env.%s: value is %d characters long, more than %d"
                              % (k, len(v), ENV_VALUE_MAX))
        return errors, env

    def launch_document(self, inst):
        return dict(super().launch_document(inst), runtype=inst.extra["runtype"])

    def control_state(self, inst, status, status_msg=None, body=None):
        super().control_state(inst, status, status_msg, body)
        body = body or {}
        inst.extra["pinned_fields"] = {k: body[k] for k in ("cur_state", "intended_status")
                                       if status and isinstance(body.get(k), str)}

    def status_snapshot(self, inst):
        if inst.pinned:
            return inst.pinned
        phase = inst.phase()
        if phase == "running" and inst.container_exited:
            return "exited"  # its container stopped (--container-status-cmd)
        return {"provisioning": None, "booting": "loading", "running": "running",
                "terminated": "exited"}[phase]

    def render(self, inst):
        status = self.status_snapshot(inst)
        o = inst.extra["offer"]
        d = {"id": int(inst.id), "label": inst.name, "actual_status": status,
             "intended_status": "running", "cur_state": "running" if status else "loading",
             "next_state": "running",
             "status_msg": inst.pinned_msg if inst.pinned_msg is not None else {
                 None: "Pulling image", "loading": "Loading image",
                 "running": "success, running %s" % inst.request.get("image")}.get(
                     status, status),
             "image_uuid": inst.request.get("image"), "image_args": [],
             "onstart": inst.request.get("onstart"),
             "machine_id": o.get("machine_id"), "host_id": o.get("host_id"),
             "gpu_name": o.get("gpu_name"), "num_gpus": o.get("num_gpus"),
             "gpu_ram": o.get("gpu_ram"), "cpu_ram": o.get("cpu_ram"),
             "disk_space": inst.request.get("disk", 10), "dph_total": self.dph_of(inst),
             "is_bid": inst.extra.get("bid") is not None, "min_bid": o.get("min_bid"),
             "geolocation": o.get("geolocation"),
             "ssh_host": "ssh5.vast.ai", "ssh_port": 20000 + int(inst.id) % 10000,
             "public_ipaddr": inst.ssh_host + "\n", "ports": {}, "extra_env": [],
             "direct_port_start": 40000, "direct_port_end": 40100,
             "start_date": inst.created_wall}
        d.update(inst.extra.get("pinned_fields") or {})
        if status == "running":
            ports = {"22/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(inst.ssh_port)},
                                {"HostIp": "::", "HostPort": str(inst.ssh_port)}]}
            for k in inst.request.get("env", {}):
                if k.startswith("-p "):
                    spec = k[3:]
                    cport, _, rest = spec.partition(":")
                    proto = "udp" if rest.endswith("/udp") else "tcp"
                    ports["%s/%s" % (cport, proto)] = [{"HostIp": "0.0.0.0", "HostPort": cport}]
            d["ports"] = ports
        return d

    @staticmethod
    def dph_of(inst):
        o = inst.extra["offer"]
        bid = inst.extra.get("bid")
        if bid is None:
            return o.get("dph_total")
        storage = max(0.0, float(number(o.get("dph_total")) or 0) -
                      float(number(o.get("dph_base")) or 0))
        return round(bid + storage, 4)

    def get(self, iid):
        with self.lock:
            inst = self.live(iid)
            return Reply(200, {"instances": self.render(inst) if inst else None})

    def live_sorted(self):
        return sorted((i for i in self.instances.values() if i.terminated_at is None),
                      key=lambda i: int(i.id))

    def list_v0(self):
        with self.lock:
            live = [self.render(i) for i in self.live_sorted()]
        return Reply(200, {"instances_found": len(live), "instances": live})

    def list_v1(self, query):
        try:
            limit = min(int(query.get("limit", ["25"])[0]), 25)
        except ValueError:
            return err(400, "invalid_args", "limit must be an integer")
        after = query.get("after_token", [None])[0]
        with self.lock:
            live = self.live_sorted()
            if after:
                live = [i for i in live if int(i.id) > int(after)]
            page = live[:limit]
            more = len(live) > limit
            body = {"success": True, "instances_found": len(page),
                    "total_instances": len(self.live_sorted()),
                    "label_counts": {},
                    "next_token": page[-1].id if more and page else None,
                    "instances": [self.render(i) for i in page]}
        return Reply(200, body)

    def request_logs(self, iid, body):
        errors = self.violations_of("showLogs", body) if body is not None else []
        if errors:
            return err(400, "invalid_args", "Invalid args: " + "; ".join(errors))
        tail = 1000
        if body and body.get("tail") is not None:
            try:
                tail = max(0, int(body["tail"]))
            except ValueError:
                return err(400, "invalid_args", "tail must be a number of lines")
        with self.lock:
            inst = self.live(iid)
            if inst is None:
                return Reply(404, {"error": "invalid_id", "msg": "Invalid instance id."})
            raw = inst.log_raw
        if raw is not None:
            data = raw.encode(errors="surrogateescape") if isinstance(raw, str) else raw
        else:
            data = "".join(l + "\n" for l in self.container_log(inst, tail)).encode()
        token = "%032x" % random.getrandbits(128)
        with self.lock:
            self.log_files[token] = (time.monotonic() + self.args.log_upload_seconds, data)
        host, port = self.current_host()
        return Reply(200, {"success": True,
                           "result_url": "http://%s:%d/instance_logs/%s.log" % (host, port, token),
                           "msg": "Logs are being uploaded, check result_url shortly."})

    def log_file(self, token):
        with self.lock:
            found = self.log_files.get(token)
        if found is None or time.monotonic() < found[0]:
            return Reply(404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey"
                              "</Code><Message>The specified key does not exist.</Message></Error>",
                         content_type="application/xml")
        return Reply(200, found[1], content_type="text/plain")

    def destroy(self, iid):
        with self.lock:
            inst = self.live(iid)
            if inst is None:
                return err(404, "not_found", "Instance not found")
            self.terminate_instance(inst)
        return Reply(200, {"success": True})


if __name__ == "__main__":
    mock_base.serve(VastMock)
