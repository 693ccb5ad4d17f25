"""What every provider mock's conformance test shares: each mock runs as a
real process on a free loopback port, with the interpreter that runs the
test (so both a pyenv python3 and Debian's /usr/bin/python3 with its
python3-jsonschema 4.10 are checked). Standard library + jsonschema.

The tests themselves live with their mocks: providers/<name>/mock_test.py.
"""

import http.client
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
PROVIDERS = os.path.dirname(HERE)

import mock_base  # noqa: E402

KEY = "test-key"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK9S berth@test"


class Mock:
    """One mock process on a free loopback port."""

    def __init__(self, name, *args):
        self.dir = tempfile.mkdtemp(prefix="berth-mock-conformance.")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(PROVIDERS, name, "mock.py"), "--port", "0",
             "--port-file", port_file, "--api-key", KEY] + list(args),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("%s mock exited: %s" % (name, self.proc.stderr.read().decode()))
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("%s mock did not start" % name)
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, method, path, body=None, auth=True, raw=None):
        """(status, headers as a lowercase dict, body parsed when JSON)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": "Bearer " + KEY} if auth else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, data, headers)
        r = conn.getresponse()
        text = r.read().decode()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return r.status, hdrs, parsed

    def control(self, method, path, body=None):
        status, _, parsed = self.call(method, "/_mock/" + path, body, auth=False)
        assert status == 200, (path, status, parsed)
        return parsed


class MockCase(unittest.TestCase):
    provider = None
    options = ()

    @classmethod
    def setUpClass(cls):
        cls.mock = Mock(cls.provider, *cls.options)

    @classmethod
    def tearDownClass(cls):
        cls.mock.close()

    def setUp(self):
        self.mock.control("POST", "reset")

    def assertNoViolations(self):
        self.assertEqual(self.mock.control("GET", "violations"), [])

    def assertViolation(self, op, operation, needle):
        """The last violation is of `operation` and one message has `needle`."""
        seen = self.mock.control("GET", "violations")
        self.assertTrue(seen, "no violation recorded")
        last = seen[-1]
        self.assertEqual((last["op"], last["operation"]), (op, operation))
        self.assertTrue(last["path"].startswith("/"))
        self.assertTrue(any(needle in m for m in last["messages"]), last["messages"])
