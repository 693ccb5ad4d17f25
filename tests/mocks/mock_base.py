"""Shared machinery for berth's provider API mocks (Python 3 standard library only).

Each mock (lambda_mock.py, runpod_mock.py, vastai_mock.py) reproduces one
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
  The commands are split with shlex and run without a shell; their exit
  status is logged, never turned into an API error.
  --min-interval OP=S   answer the provider's own 429 when two requests for
                        operation OP arrive less than S seconds apart
                        (repeatable; e.g. Lambda's launch limit: launch=12)

Control API (no auth; loopback only):
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
      after the delay (or truncated/cut).
  POST /_mock/instances/<id>/state  {"status": "<provider's own word>"}
      Pins an instance to a status (e.g. Lambda "preempted", RunPod
      "EXITED", Vast "exited"); {"status": null} unpins.
  POST /_mock/timing    {"provision_seconds": S, "boot_seconds": S}: what
      instances launched from now on take (the ones running keep theirs).
  GET  /_mock/instances  every instance ever launched, with its current status
      and whether it was terminated (leak checks).
  GET  /_mock/requests   every API request received: method, path, query,
                         body (parsed when JSON) and the auth header's scheme.
  PUT  /_mock/catalog    replaces the offer data with the JSON body, in the
                         provider's own wire format.
  POST /_mock/reset      forgets instances, faults, requests, catalog and
                         timing edits.
"""

import argparse
import itertools
import json
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
        self.terminated_at = None
        self.extra = dict(extra or {})
        self.provision_seconds = mock.provision_seconds
        self.boot_seconds = mock.boot_seconds
        self.container_exited = False  # from --container-status-cmd
        # While the launch hook starts its container: not asked about (a
        # container not made yet is not one that exited).
        self.launching = False
        self.container_checked = None  # monotonic time of the last check
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
            self.run_hook(self.args.on_launch_cmd, dict(self.hook_document(inst), request=request))
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

    def hook_document(self, inst):
        return {"provider": self.provider, "id": inst.id, "name": inst.name,
                "ssh_host": inst.ssh_host, "ssh_port": inst.ssh_port}

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

    def rate_limited(self, op):
        return Reply(429, "Too Many Requests", content_type="text/plain")

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

    def status_snapshot(self, inst):
        return inst.phase()

    def control_state(self, inst, status):
        inst.pinned = status


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
        found = mock.route(method, path, query, body)
        if found is None:
            return self.send_reply(mock.not_found(method, path))
        op, action = found
        fault = mock.take_fault(op)
        if fault:
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if fault.get("hang"):
                time.sleep(float(fault.get("hang_seconds", 30)))
                self.close_connection = True
                return
            if fault.get("status") is not None:
                reply = Reply(int(fault["status"]), fault.get("body"), fault.get("headers"),
                              fault.get("content_type", "application/json"))
                return self.send_reply(reply, fault)
        if not mock.authorized(self):
            return self.send_reply(mock.unauthorized())
        if mock.too_soon(op):
            return self.send_reply(mock.rate_limited(op))
        if op in ("get", "list"):
            mock.refresh_containers()
        try:
            reply = action()
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
        if method == "POST" and len(parts) == 4 and parts[1] == "instances" and parts[3] == "state":
            with mock.lock:
                inst = mock.instances.get(parts[2])
                if inst is None:
                    return Reply(404, {"error": "no such instance"})
                mock.control_state(inst, (body or {}).get("status"))
            return Reply(200, {"ok": True})
        return Reply(404, {"error": "unknown control path"})

    def send_reply(self, reply, fault=None):
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


def parse_args(argv, description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--api-key", default="test-key")
    p.add_argument("--ssh-host", action="append", default=None)
    p.add_argument("--provision-seconds", type=float, default=0.0)
    p.add_argument("--boot-seconds", type=float, default=0.0)
    p.add_argument("--on-launch-cmd")
    p.add_argument("--on-terminate-cmd")
    p.add_argument("--container-status-cmd")
    p.add_argument("--min-interval", action="append", default=[])
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
    if not args.ssh_host:
        args.ssh_host = ["127.0.0.1:22"]
    for h in args.ssh_host:
        host, sep, port = h.rpartition(":")
        if not sep or not host or not port.isdigit():
            p.error("--ssh-host wants HOST:PORT, got %r" % h)
    return args


def serve(mock_class, argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv, mock_class.__doc__)
    mock = mock_class(args)
    handler = type("BoundHandler", (Handler,), {"mock": mock})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        import os
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
