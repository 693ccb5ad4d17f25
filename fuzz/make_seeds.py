#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets into fuzz/corpus/<target>/ (run it
from anywhere; scripts/fuzz.sh does not need it, the seeds are committed):

- the cloud adapters (fuzz_lambda, fuzz_runpod, fuzz_vastai): every answer the
  provider mocks (providers/<name>/mock.py) give to the calls berth makes, successes and
  errors, each as one byte selecting the status (fuzz/fuzz_support.cpp,
  status_for) followed by the body;
- fuzz_vast_offers: the Vast mock's offer search answer;
- fuzz_config: the YAML examples of docs/config.md and README.md;
- fuzz_retry_after, fuzz_shell_quote, fuzz_output: a few hand-written values.

fuzz_template is seeded from templates/ and tests/corpus/ directly."""

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROVIDERS = os.path.join(ROOT, "providers")
OUT = os.path.join(ROOT, "fuzz", "corpus")
KEY = "seed-key-0123456789"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK9S berth@seed"
# The order of status_for in fuzz/fuzz_support.cpp.
STATUSES = [200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 410, 422, 429, 500, 502,
            503]


class Mock:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="berth-seeds.")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(PROVIDERS, name, "mock.py"), "--port", "0", "--port-file",
             port_file, "--api-key", KEY], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(name + " mock did not start")
            time.sleep(0.02)
        time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())

    def call(self, method, path, body=None, auth=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": "Bearer " + (KEY if auth else "wrong-key")}
        data = None if body is None else json.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, data, headers)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        return r.status, text

    def fault(self, fault):
        self.call("POST", "/_mock/fault", fault)

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def answers(target, mock, calls):
    for i, (method, path, body, auth) in enumerate(calls):
        status, text = mock.call(method, path, body, auth)
        write(target, "mock-%02d-%d" % (i, status), bytes([STATUSES.index(status)]) + text)


def lambda_seeds():
    m = Mock("lambda")
    try:
        m.call("POST", "/api/v1/ssh-keys", {"name": "berth", "public_key": PUBKEY})
        _, launched = m.call("POST", "/api/v1/instance-operations/launch",
                             {"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10",
                              "ssh_key_names": ["berth"], "name": "berth-chat-0-abc123"})
        iid = json.loads(launched)["data"]["instance_ids"][0]
        calls = [("GET", "/api/v1/instance-types", None, True),
                 ("GET", "/api/v1/ssh-keys", None, True),
                 ("POST", "/api/v1/ssh-keys", {"name": "berth2", "public_key": PUBKEY}, True),
                 ("GET", "/api/v1/instances", None, True),
                 ("GET", "/api/v1/instances/" + iid, None, True),
                 ("GET", "/api/v1/instances/nope", None, True),
                 ("GET", "/api/v1/instances", None, False),
                 ("POST", "/api/v1/instance-operations/launch", {"region_name": "x"}, True),
                 ("POST", "/api/v1/instance-operations/terminate", {"instance_ids": [iid]}, True)]
        answers("fuzz_lambda", m, calls)
        m.fault({"op": "offers", "status": 429, "body": "Too Many Requests",
                 "content_type": "text/plain"})
        status, text = m.call("GET", "/api/v1/instance-types")
        write("fuzz_lambda", "mock-429", bytes([STATUSES.index(status)]) + text)
    finally:
        m.close()


def runpod_seeds():
    m = Mock("runpod")
    try:
        pod = {"name": "berth-chat-0-abc123", "image": "localhost/berth-demo:1",
               "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1}, "cloud": "SECURE",
               "dataCenterIds": ["US-KS-2"], "ports": ["8000/http", "22/tcp"],
               "env": {"GREETING": "hi"}, "args": "httpd -f -p 8000 -h /www"}
        _, made = m.call("POST", "/v2/pods", pod)
        pid = json.loads(made)["id"]
        calls = [("GET", "/v2/catalog/gpus?include=AVAILABILITY&product=POD", None, True),
                 ("GET", "/v2/pods", None, True),
                 ("GET", "/v2/pods/" + pid, None, True),
                 ("GET", "/v2/pods/nope", None, True),
                 ("GET", "/v2/pods", None, False),
                 ("POST", "/v2/pods", dict(pod, ports=["8000"]), True),
                 ("POST", "/v2/registries", {"name": "r", "username": "u", "password": "p"}, True),
                 ("GET", "/v2/registries", None, True),
                 ("DELETE", "/v2/pods/" + pid, None, True)]
        answers("fuzz_runpod", m, calls)
    finally:
        m.close()


def vast_seeds():
    m = Mock("vastai")
    try:
        m.call("POST", "/api/v0/ssh/", {"ssh_key": PUBKEY})
        rent = {"client_id": "me", "image": "localhost/berth-demo:1",
                "label": "berth-chat-0-abc123", "disk": 50, "runtype": "ssh_direc ssh_proxy",
                "env": {"GREETING": "hi", "-p 8000:8000": "1"}}
        _, rented = m.call("PUT", "/api/v0/asks/1001/", rent)
        iid = str(json.loads(rented).get("new_contract", "1"))
        status, offers = m.call("POST", "/api/v0/bundles/",
                                {"verified": {"eq": True}, "limit": 1000, "type": "on-demand"})
        write("fuzz_vast_offers", "mock-offers", offers)
        calls = [("POST", "/api/v0/bundles/", {"limit": 1000}, True),
                 ("GET", "/api/v0/ssh/", None, True),
                 ("GET", "/api/v1/instances/?limit=25", None, True),
                 ("GET", "/api/v0/instances/" + iid + "/", None, True),
                 ("GET", "/api/v0/instances/999999/", None, True),
                 ("GET", "/api/v1/instances/?limit=25", None, False),
                 ("PUT", "/api/v0/asks/1002/", dict(rent, env="x" * 300), True),
                 ("DELETE", "/api/v0/instances/" + iid + "/", None, True)]
        answers("fuzz_vastai", m, calls)
    finally:
        m.close()


def config_seeds():
    for doc in ("docs/config.md", "README.md"):
        text = open(os.path.join(ROOT, doc)).read()
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
            if "providers" in block or "ssh" in block or "runtime" in block:
                write("fuzz_config", "%s-%02d.yaml" % (os.path.basename(doc)[:-3], i),
                      block.encode())


def small_seeds():
    for i, v in enumerate(["120", "0", "Wed, 21 Oct 2015 07:28:00 GMT",
                           "Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015",
                           "Fri, 31 Dec 9999 23:59:59 GMT", "99999999999"]):
        write("fuzz_retry_after", "value-%d" % i, v.encode())
    for i, v in enumerate([b"echo", b"it's", b"$(reboot)\x00`id`", b"a b\tc\nd", b"'\x00'\x00''",
                           b"\\\x00\"\x00%s"]):
        write("fuzz_shell_quote", "args-%d" % i, v)
    for i, v in enumerate([b"sk-live-abc\nAuthorization: Bearer sk-live-abc",
                           b"p/a+ss\nu=p%2Fa%2Bss&x=1",
                           b"s3cr3t\n{\"auth\": \"YWxpY2U6czNjcjN0\"}",
                           b"k\n\x1b[31mred\x1b[0m \xc2\x9b \xe2\x80\xae\r\n",
                           b"hunter22\nhttp://bob:hunter22@proxy:3128 keycloak: x"]):
        write("fuzz_output", "text-%d" % i, v)


if __name__ == "__main__":
    lambda_seeds()
    runpod_seeds()
    vast_seeds()
    config_seeds()
    small_seeds()
