"""Shared machinery for berth's provider API mocks (Python 3 standard library only).

Each mock (providers/lambda/mock.py, runpod/mock.py, vastai/mock.py) reproduces one
provider's real wire format: paths, auth, envelopes, units, error bodies.
This module holds what they share: the threaded server on loopback, the
command line, fault injection, instance state that moves with time, the
launch/terminate hooks, and the control API under /_mock/.

Command line (every mock):
  --port N              port to bind on 127.0.0.1 (0 = any free port)
  --port-file F         write the bound port to F once listening
  --api-key KEY         the only key accepted (default "test-key")
  --ssh-host H:P        SSH endpoint handed to launched instances; repeatable,
                        assigned round-robin (default 127.0.0.1:22)
  --provision-seconds S time an instance spends provisioning (default 0)
  --boot-seconds S      time it then spends booting before running (default 0)
  --on-launch-cmd CMD   run after each launch with a JSON document on stdin:
                        {"provider", "id", "name", "ssh_host", "ssh_port",
                         "request": <the launch request body as received>}
                        plus the provider's own fields (runpod/mock.py:
                        "registry_credential")
  --on-terminate-cmd C  run after each terminate with {"provider", "id",
                        "name", "ssh_host", "ssh_port"} on stdin
  --container-status-cmd C
                        for mocks whose instances are containers that a
                        launch hook made real: run before answering a get or
                        list (at most every 0.2 s per instance) with
                        the terminate document on stdin; it prints
                        `running`, or `exited` when the container stopped
                        on its own or was killed. An exited container makes
                        its running, unpinned instance read as the provider
                        reports an exited container (RunPod EXITED, Vast
                        exited), as the real APIs follow their containers.
  --container-logs-cmd C
                        for the same mocks: run when a pod's log is asked for,
                        with the terminate document plus "tail" (lines) on
                        stdin; prints the container's log (stdout and stderr
                        as the runtime interleaves them). Without it a pod's
                        log is a line the mock makes up, or what the control
                        API set.
  The commands are split with shlex and run without a shell; their exit
  status is logged, never turned into an API error.
  --min-interval OP=S   answer the provider's own 429 when two requests for
                        operation OP arrive less than S seconds apart
                        (repeatable; e.g. Lambda's launch limit: launch=12)
  --rate-limit OP=T:P   a threshold with a penalty (Vast's launch limit:
                        launch=4.5:12): a request for OP less than T seconds
                        after the previous one is answered 429 and opens a
                        penalty window of P seconds in which every request
                        for OP is answered 429 too. Requests inside the window
                        neither extend it nor count as "the previous one".
                        (repeatable)

Request bodies: every create-type body is validated against the vendor's own
schema, transcribed into providers/<provider>/api_schema.json (see extract_api_schema.py for
the document and commit each comes from), with jsonschema's Draft 2020-12
validator. A body that breaks it, or breaks a rule the vendor's document
states in prose, is refused with the vendor's own error, and the violation is
recorded: GET /_mock/violations lists them, so a test can assert that its
client never sent anything the vendor would refuse.

Control API (no auth; loopback only):
  POST /_mock/instances/<id>/logs {"text": "..."} | {"raw": "..."}
      The pod's log from now on: `text` its lines (each endpoint frames them
      as its vendor does), `raw` the whole answer body, sent as it is (a
      hostile or malformed stream).
  POST /_mock/fault     {"op": "<operation>"|"any", "status": 400,
                         "body": <str or JSON>, "headers": {...}, "times": 1,
                         "delay": 0.0, "hang": false, "truncate": false,
                         "cut": false, "content_type": "..."}
      The next `times` requests for `op` get this answer instead of the real
      one. "delay" sleeps first (slow answers); "hang" holds the connection
      open without answering for `hang_seconds` (default 30); "truncate"
      sends only the first half of the body with a matching Content-Length
      (truncated JSON); "cut" announces the full length, sends half and
      closes (a broken transfer). Without "status", the real answer is sent
      after the delay (or truncated/cut). "create_anyway": true (with
      "status", default 400) first does what the request asks (a launch
      makes its instance, which bills and is listed) and then answers the
      fault instead: a launch that fails but happened (when the request
      itself fails, its real answer is sent). Providers whose
      errors name what was made add it to the body (Vast: new_contract).
  POST /_mock/instances/<id>/state  {"status": "<provider's own word>",
                                     "status_msg": "..."}
      Pins an instance to a status (e.g. Lambda "preempted", RunPod
      "EXITED", Vast "exited"); {"status": null} unpins. "status_msg" pins
      the provider's status text too, where it has one (Vast); Vast also
      takes "cur_state" and "intended_status" (an outbid interruptible).
  POST /_mock/timing    {"provision_seconds": S, "boot_seconds": S}: what
      instances launched from now on take (the ones running keep theirs).
  GET  /_mock/instances  every instance ever launched, with its current status
      and whether it was terminated (leak checks).
  GET  /_mock/requests   every API request received: method, path, query,
                         body (parsed when JSON) and the auth header's scheme.
  GET  /_mock/violations every request body refused for breaking the vendor's
                         document: {"op" (the fault op), "operation" (the
                         vendor's operationId), "method", "path",
                         "messages": ["args: ['a'] is not of type 'string'",
                         ...]}.
  POST /_mock/check/<operationId>  the body checked against the vendor's
                         schema for that operation, recorded nowhere:
                         {"messages": [...]} ([] = valid).
  PUT  /_mock/catalog    replaces the offer data with the JSON body, in the
                         provider's own wire format.
  POST /_mock/reset      forgets instances, faults, requests, violations,
                         catalog, timing edits and rate-limit state.
"""

import argparse
import itertools
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from jsonschema import Draft202012Validator
except ImportError:  # say what to install instead of a bare traceback
    sys.exit("berth's provider mocks need jsonschema (Debian: apt-get install python3-jsonschema)")

# providers/: each provider's folder holds its mock and api_schema.json.
PROVIDERS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _location(path):
    """'$' for the body itself, else gpu.allowedCudaVersions, ports[0]."""
    out = ""
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "$"


class RequestSchemas:
    """One provider's request body schemas (providers/<provider>/api_schema.json), one
    Draft 2020-12 validator per vendor operationId.

    Written for Debian 12's python3-jsonschema (4.10) as well as newer ones:
    each validator gets a self-contained schema ({"$defs", "$ref"}), so no
    ref resolver (whose API changed after 4.17) is needed."""

    def __init__(self, provider):
        with open(os.path.join(PROVIDERS_DIR, provider, "api_schema.json")) as f:
            self.document = json.load(f)
        self.defs = self.document["$defs"]
        self.validators = {}
        for operation, spec in self.document["operations"].items():
            schema = {"$schema": self.document["$schema"], "$defs": self.defs,
                      "$ref": spec["schema"]}
            self.validators[operation] = Draft202012Validator(schema)

    def violations(self, operation, body):
        """Every way `body` breaks the operation's schema, as readable
        strings ("args: ['a'] is not of type 'string'"); [] when it conforms."""
        out = []
        for error in self.validators[operation].iter_errors(body):
            message = error.message
            if error.validator == "unevaluatedProperties":
                message = self._unevaluated(error)
                if message is None:
                    continue
            elif error.context:  # anyOf/oneOf: say why the closest branch failed
                best = min(error.context, key=lambda e: len(e.path))
                message += " (%s: %s)" % (_location(best.absolute_path), best.message)
            line = "%s: %s" % (_location(error.absolute_path), message)
            if line not in out:
                out.append(line)
        return out

    def _unevaluated(self, error):
        """JSON Schema drops the annotations of a failing subschema, so one
        bad field (args as an array) makes every field declared beside it
        "unevaluated" too. Only properties no subschema declares at all are
        reported; None when that leaves nothing (the real fault is reported
        on its own)."""
        declared = self._declared(error.schema, set())
        extra = [k for k in error.instance if k not in declared] \
            if isinstance(error.instance, dict) else []
        if not extra:
            return None
        return "Unevaluated properties are not allowed (%s %s unexpected)" % (
            ", ".join(repr(k) for k in extra), "was" if len(extra) == 1 else "were")

    def _declared(self, schema, seen):
        names = set()
        if not isinstance(schema, dict):
            return names
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/") and ref not in seen:
            seen.add(ref)
            names |= self._declared(self.defs[ref[len("#/$defs/"):]], seen)
        names |= set(schema.get("properties") or {})
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key) or []:
                names |= self._declared(sub, seen)
        for key in ("then", "else"):
            names |= self._declared(schema.get(key), seen)
        return names


class Reply:
    """One HTTP answer. `body` is bytes, str, or JSON-serialisable."""

    def __init__(self, status, body=None, headers=None, content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type

    def encoded(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class Instance:
    """An instance with a status that moves with time unless pinned."""

    def __init__(self, mock, iid, name, ssh, request, extra=None):
        self.id = iid
        self.name = name
        self.ssh_host, self.ssh_port = ssh
        self.request = request
        self.created = time.monotonic()
        self.created_wall = time.time()
        self.pinned = None
        self.pinned_msg = None  # the provider's status text, when pinned with one
        self.terminated_at = None
        self.extra = dict(extra or {})
        self.provision_seconds = mock.provision_seconds
        self.boot_seconds = mock.boot_seconds
        self.container_exited = False  # from --container-status-cmd
        # While the launch hook starts its container: not asked about (a
        # container not made yet is not one that exited).
        self.launching = False
        self.container_checked = None  # monotonic time of the last check
        self.log_text = None  # the pod's log as the control API set it
        self.log_raw = None   # a whole answer body to send instead
        self._mock = mock

    def phase(self):
        """provisioning | booting | running | terminating | terminated."""
        if self.terminated_at is not None:
            return "terminated"
        age = time.monotonic() - self.created
        if age < self.provision_seconds:
            return "provisioning"
        if age < self.provision_seconds + self.boot_seconds:
            return "booting"
        return "running"


class MockApi:
    """Base class: subclasses set `provider` and implement `route()`."""

    provider = "mock"

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.refresh_lock = threading.Lock()
        self.ssh_cycle = itertools.cycle(args.ssh_host)
        self.schemas = RequestSchemas(self.provider) \
            if os.path.exists(os.path.join(PROVIDERS_DIR, self.provider, "api_schema.json")) else None
        self.current = threading.local()  # the request this thread answers
        # Where provider volumes keep their files (one directory each), so
        # that every instance attaching one sees the same data.
        self.volume_root = args.volume_dir or tempfile.mkdtemp(prefix="mock-volumes-")
        self.reset()

    # --- state ---------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.instances = {}
            self.faults = []
            self.requests = []
            self.catalog = self.default_catalog()
            self.id_counter = itertools.count(1)
            self.last_call = {}
            self.penalties = {}
            self.violations = []
            self.provision_seconds = self.args.provision_seconds
            self.boot_seconds = self.args.boot_seconds
            self.extra_reset()

    def extra_reset(self):
        pass

    def default_catalog(self):
        return {}

    def next_ssh(self):
        with self.lock:
            host, _, port = next(self.ssh_cycle).rpartition(":")
            return host, int(port)

    def add_instance(self, iid, name, request, extra=None):
        inst = Instance(self, iid, name, self.next_ssh(), request, extra)
        inst.launching = True
        with self.lock:
            self.instances[iid] = inst
        try:
            self.run_hook(self.args.on_launch_cmd, self.launch_document(inst))
        finally:
            with self.lock:
                inst.launching = False
        return inst

    def live(self, iid):
        inst = self.instances.get(iid)
        if inst is None or inst.terminated_at is not None:
            return None
        return inst

    def terminate_instance(self, inst):
        if inst.terminated_at is None:
            inst.terminated_at = time.monotonic()
            # A pinned status (preempted, unhealthy...) describes a live
            # instance; once terminated, it reads as terminated like the real API.
            inst.pinned = None
            self.run_hook(self.args.on_terminate_cmd, self.hook_document(inst))

    def refresh_containers(self):
        """Asks --container-status-cmd about running, unpinned instances (not
        again within 0.2 s: a burst of requests asks once). Outside
        self.lock: the command takes a while, other requests go on."""
        command = self.args.container_status_cmd
        if not command:
            return
        with self.refresh_lock:
            now = time.monotonic()
            with self.lock:
                due = [i for i in self.instances.values()
                       if i.terminated_at is None and not i.pinned and i.phase() == "running"
                       and not i.container_exited and not i.launching
                       and (i.container_checked is None or now - i.container_checked >= 0.2)]
            for inst in due:
                try:
                    done = subprocess.run(
                        shlex.split(command), input=json.dumps(self.hook_document(inst)).encode(),
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
                    answer = done.stdout.decode(errors="replace").strip()
                except (OSError, subprocess.SubprocessError) as e:
                    sys.stderr.write("%s mock: status hook failed: %s\n" % (self.provider, e))
                    continue
                with self.lock:
                    inst.container_checked = time.monotonic()
                    if answer == "exited" and inst.terminated_at is None:
                        inst.container_exited = True

    def current_host(self):
        """(host, port) this mock answers the current request on."""
        return self.current.server_address

    def container_log(self, inst, tail):
        """The last `tail` lines of a pod's log: what the control API set,
        else what --container-logs-cmd prints (the real container's), else
        a line of the mock's own."""
        if inst.log_text is not None:
            text = inst.log_text
        elif self.args.container_logs_cmd:
            try:
                done = subprocess.run(
                    shlex.split(self.args.container_logs_cmd),
                    input=json.dumps(dict(self.hook_document(inst), tail=tail)).encode(),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
                text = done.stdout.decode(errors="replace")
            except (OSError, subprocess.SubprocessError) as e:
                sys.stderr.write("%s mock: logs hook failed: %s\n" % (self.provider, e))
                text = ""
        else:
            text = "[%s mock] %s (%s) started\n" % (self.provider, inst.name, inst.id)
        lines = text.splitlines()
        return lines[-tail:] if tail > 0 else []

    def hook_document(self, inst):
        return {"provider": self.provider, "id": inst.id, "name": inst.name,
                "ssh_host": inst.ssh_host, "ssh_port": inst.ssh_port}

    def launch_document(self, inst):
        """What --on-launch-cmd reads: the hook document plus the launch
        request as received (and whatever else the provider hands its
        hosts, e.g. RunPod's registry credential)."""
        return dict(self.hook_document(inst), request=inst.request)

    def run_hook(self, command, document):
        if not command:
            return
        try:
            done = subprocess.run(shlex.split(command), input=json.dumps(document).encode(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
            if done.returncode != 0:
                sys.stderr.write("%s mock: hook %r exited %d: %s\n" % (
                    self.provider, command, done.returncode, done.stderr.decode(errors="replace")))
        except (OSError, subprocess.SubprocessError) as e:
            sys.stderr.write("%s mock: hook %r failed: %s\n" % (self.provider, command, e))

    # --- request bodies -------------------------------------------------------
    def violations_of(self, operation, body):
        """Checks `body` against the vendor's schema for `operation` (its
        operationId); the violations are recorded and returned ([] = fine)."""
        messages = self.schemas.violations(operation, body)
        self.record_violation(operation, messages)
        return messages

    def check_body(self, operation, body):
        """What the vendor's API would refuse in `body` for `operation`,
        recorded nowhere (POST /_mock/check). Mocks whose create call takes
        a documented client deviation apply it here too."""
        return self.schemas.violations(operation, body)

    def record_violation(self, operation, messages):
        """Records a refused body (schema or documented prose rule) for
        GET /_mock/violations; no-op for an empty list."""
        if not messages:
            return
        cur = self.current
        with self.lock:
            self.violations.append({"op": getattr(cur, "op", None), "operation": operation,
                                    "method": getattr(cur, "method", None),
                                    "path": getattr(cur, "path", None),
                                    "messages": list(messages)})

    # --- faults --------------------------------------------------------------
    def too_soon(self, op):
        """True when `op` came faster than its --min-interval allows."""
        interval = self.args.min_interval.get(op)
        if not interval:
            return False
        now = time.monotonic()
        with self.lock:
            last = self.last_call.get(op)
            self.last_call[op] = now
        return last is not None and now - last < interval

    def penalized(self, op):
        """True when `op` is refused under --rate-limit (threshold + penalty
        window, see the module docstring)."""
        rule = self.args.rate_limit.get(op)
        if not rule:
            return False
        threshold, penalty = rule
        now = time.monotonic()
        with self.lock:
            state = self.penalties.setdefault(op, {"last": None, "until": None})
            if state["until"] is not None and now < state["until"]:
                return True
            last, state["last"] = state["last"], now
            if last is not None and now - last < threshold:
                state["until"] = now + penalty
                return True
        return False

    def limit_of(self, op):
        """The interval or threshold that limits `op`, for 429 texts."""
        rule = self.args.rate_limit.get(op)
        return rule[0] if rule else self.args.min_interval.get(op)

    def rate_limited(self, op):
        return Reply(429, "Too Many Requests", content_type="text/plain")

    def created_anyway(self, op, fault, reply):
        """The answer to a request that did its work but reports the fault
        (fault field "create_anyway"). Providers whose error bodies name
        what was made add it here."""
        return Reply(int(fault.get("status") or 400), fault.get("body"), fault.get("headers"),
                     fault.get("content_type", "application/json"))

    def take_fault(self, op):
        with self.lock:
            for f in self.faults:
                if f["op"] in (op, "any") and f["times"] > 0:
                    f["times"] -= 1
                    return dict(f)
        return None

    # --- overridables --------------------------------------------------------
    def authorized(self, handler):
        return handler.headers.get("Authorization", "") == "Bearer " + self.args.api_key

    def unauthorized(self):
        return Reply(401, {"error": "unauthorized"})

    def common_headers(self):
        return {}

    def route(self, method, path, query, body):
        """Returns (op, callable) for an API request, or None for 404."""
        raise NotImplementedError

    def not_found(self, method, path):
        return Reply(404, {"error": "not found"})

    def redirect(self, method, path, query_string, handler):
        """A Reply for requests the provider's web server redirects before
        they reach its API (no auth, no faults); None for the rest."""
        return None

    def status_snapshot(self, inst):
        return inst.phase()

    def control_state(self, inst, status, status_msg=None, body=None):
        """`body` is the whole control document, for providers whose
        instances carry more status fields than one word (Vast.ai)."""
        inst.pinned = status
        inst.pinned_msg = status_msg if status else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mock = None  # set by serve()

    def log_message(self, fmt, *args):  # quiet: tests read /_mock/requests
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self, method):
        mock = self.mock
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query)
        raw = self.read_body()
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")

        if path.startswith("/_mock/"):
            return self.send_reply(self.control(method, path, body))

        auth = self.headers.get("Authorization", "")
        with mock.lock:
            mock.requests.append({"method": method, "path": path,
                                  "query": {k: v[0] if len(v) == 1 else v
                                            for k, v in query.items()},
                                  "body": body, "auth_scheme": auth.split(" ")[0]})
        moved = mock.redirect(method, path, parsed.query, self)
        if moved is not None:
            return self.send_reply(moved)
        found = mock.route(method, path, query, body)
        if found is None:
            return self.send_reply(mock.not_found(method, path))
        op, action = found
        mock.current.op, mock.current.method, mock.current.path = op, method, path
        mock.current.server_address = self.server.server_address[:2]
        fault = mock.take_fault(op)
        if fault:
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if fault.get("hang"):
                time.sleep(float(fault.get("hang_seconds", 30)))
                self.close_connection = True
                return
            if fault.get("status") is not None and not fault.get("create_anyway"):
                reply = Reply(int(fault["status"]), fault.get("body"), fault.get("headers"),
                              fault.get("content_type", "application/json"))
                return self.send_reply(reply, fault)
        if not mock.authorized(self):
            return self.send_reply(mock.unauthorized())
        if mock.too_soon(op) or mock.penalized(op):
            return self.send_reply(mock.rate_limited(op))
        if op in ("get", "list"):
            mock.refresh_containers()
        try:
            reply = action()
            if fault and fault.get("create_anyway") and 200 <= reply.status < 300:
                reply = mock.created_anyway(op, fault, reply)
        except Exception as e:  # a bug in the mock: say so loudly
            reply = Reply(500, {"mock_bug": repr(e)})
            sys.stderr.write("%s mock: %r\n" % (mock.provider, e))
        self.send_reply(reply, fault)

    def control(self, method, path, body):
        mock = self.mock
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/_mock/fault":
            f = dict(body or {})
            f.setdefault("op", "any")
            f.setdefault("times", 1)
            with mock.lock:
                mock.faults.append(f)
            return Reply(200, {"ok": True})
        if method == "POST" and path == "/_mock/timing":
            with mock.lock:
                mock.provision_seconds = float((body or {}).get("provision_seconds",
                                                                mock.provision_seconds))
                mock.boot_seconds = float((body or {}).get("boot_seconds", mock.boot_seconds))
            return Reply(200, {"ok": True})
        if method == "POST" and path == "/_mock/reset":
            mock.reset()
            return Reply(200, {"ok": True})
        if method == "GET" and path == "/_mock/requests":
            with mock.lock:
                return Reply(200, list(mock.requests))
        if method == "GET" and path == "/_mock/violations":
            with mock.lock:
                return Reply(200, list(mock.violations))
        if method == "POST" and len(parts) == 3 and parts[1] == "check":
            # A body checked against the vendor's schema for the operation
            # named in the path, without sending it anywhere (what
            # `berth up --dry-run` prints): {"messages": [...]}, [] = valid.
            return Reply(200, {"messages": mock.check_body(parts[2], body)})
        if method == "PUT" and path == "/_mock/catalog":
            with mock.lock:
                mock.catalog = body
            return Reply(200, {"ok": True})
        if method == "GET" and path == "/_mock/instances":
            with mock.lock:
                return Reply(200, [{"id": i.id, "name": i.name,
                                    "status": mock.status_snapshot(i),
                                    "terminated": i.terminated_at is not None,
                                    "ssh_host": i.ssh_host, "ssh_port": i.ssh_port,
                                    "request": i.request}
                                   for i in mock.instances.values()])
        if method == "POST" and len(parts) == 4 and parts[1] == "instances" and parts[3] == "logs":
            with mock.lock:
                inst = mock.instances.get(parts[2])
                if inst is None:
                    return Reply(404, {"error": "no such instance"})
                inst.log_text = (body or {}).get("text")
                inst.log_raw = (body or {}).get("raw")
            return Reply(200, {"ok": True})
        if method == "POST" and len(parts) == 4 and parts[1] == "instances" and parts[3] == "state":
            with mock.lock:
                inst = mock.instances.get(parts[2])
                if inst is None:
                    return Reply(404, {"error": "no such instance"})
                mock.control_state(inst, (body or {}).get("status"),
                                   (body or {}).get("status_msg"), body or {})
            return Reply(200, {"ok": True})
        return Reply(404, {"error": "unknown control path"})

    def send_stream(self, reply):
        """An answer that does not end by itself (server-sent events): the
        body, then a keep-alive comment every half second until the client
        goes or `reply.stream_seconds` pass."""
        self.send_response(reply.status)
        headers = dict(self.mock.common_headers())
        headers.update(reply.headers)
        self.send_header("Content-Type", reply.content_type)
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.end_headers()
        self.close_connection = True  # no length: the answer ends with the connection
        try:
            self.wfile.write(reply.encoded())
            self.wfile.flush()
            deadline = time.monotonic() + reply.stream_seconds
            while time.monotonic() < deadline:
                time.sleep(0.5)
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_reply(self, reply, fault=None):
        if getattr(reply, "stream_seconds", None) is not None and not fault:
            return self.send_stream(reply)
        data = reply.encoded()
        announced = len(data)
        if fault and fault.get("truncate"):
            data = data[: len(data) // 2]
            announced = len(data)
        cut = bool(fault and fault.get("cut"))
        if cut:
            data = data[: len(data) // 2]
        self.send_response(reply.status)
        headers = dict(self.mock.common_headers())
        headers.update(reply.headers)
        if reply.status != 204 and reply.body is not None:
            self.send_header("Content-Type", reply.content_type)
        for k, v in headers.items():
            self.send_header(k, str(v))
        if reply.status != 204:
            self.send_header("Content-Length", str(announced))
        self.end_headers()
        try:
            if data and reply.status != 204:
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if cut:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def parse_args(argv, description, add_arguments=None):
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--api-key", default="test-key")
    p.add_argument("--ssh-host", action="append", default=None)
    p.add_argument("--provision-seconds", type=float, default=0.0)
    p.add_argument("--boot-seconds", type=float, default=0.0)
    p.add_argument("--on-launch-cmd")
    p.add_argument("--on-terminate-cmd")
    p.add_argument("--container-status-cmd")
    p.add_argument("--container-logs-cmd")
    p.add_argument("--volume-dir", help="where provider volumes keep their files")
    p.add_argument("--min-interval", action="append", default=[])
    p.add_argument("--rate-limit", action="append", default=[])
    if add_arguments:
        add_arguments(p)  # the provider's own options
    args = p.parse_args(argv)
    limits = {}
    for item in args.min_interval:
        op, sep, seconds = item.partition("=")
        try:
            limits[op] = float(seconds)
        except ValueError:
            p.error("--min-interval wants OP=SECONDS, got %r" % item)
        if not sep or not op:
            p.error("--min-interval wants OP=SECONDS, got %r" % item)
    args.min_interval = limits
    penalties = {}
    for item in args.rate_limit:
        op, _, spec = item.partition("=")
        threshold, _, penalty = spec.partition(":")
        try:
            penalties[op] = (float(threshold), float(penalty))
        except ValueError:
            p.error("--rate-limit wants OP=THRESHOLD:PENALTY, got %r" % item)
        if not op:
            p.error("--rate-limit wants OP=THRESHOLD:PENALTY, got %r" % item)
    args.rate_limit = penalties
    if not args.ssh_host:
        args.ssh_host = ["127.0.0.1:22"]
    for h in args.ssh_host:
        host, sep, port = h.rpartition(":")
        if not sep or not host or not port.isdigit():
            p.error("--ssh-host wants HOST:PORT, got %r" % h)
    return args


def serve(mock_class, argv=None):
    module = sys.modules.get(mock_class.__module__)
    args = parse_args(sys.argv[1:] if argv is None else argv,
                      getattr(module, "__doc__", None) or mock_class.__doc__,
                      getattr(mock_class, "add_arguments", None))
    mock = mock_class(args)
    handler = type("BoundHandler", (Handler,), {"mock": mock})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
