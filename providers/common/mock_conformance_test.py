#!/usr/bin/env python3
"""The provider mocks hold to the vendors' own documents: bodies a document
refuses are refused with that vendor's error shape and recorded as
violations, bodies it allows pass, and the behaviours the mocks add for
tests (new_contract on an error, Vast's launch rate limit, its key listing
shapes and its trailing-slash redirect, Lambda's unhealthy boot) work as
their docstrings say. Also checks how the pod launch hook would start
containers, without starting any.

Runs each mock as a real process on a free port, with the interpreter that
runs this file (so both a pyenv python3 and Debian's /usr/bin/python3 with
its python3-jsonschema 4.10 can be checked). Standard library + jsonschema.
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
sys.path.insert(0, os.path.join(os.path.dirname(PROVIDERS), "tests", "e2e"))

import deploy_pod_hook  # noqa: E402
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


class SchemaFiles(unittest.TestCase):
    def test_each_transcription_is_a_valid_schema_naming_its_source(self):
        for provider in ("runpod", "lambda", "vastai"):
            with self.subTest(provider=provider):
                schemas = mock_base.RequestSchemas(provider)
                doc = schemas.document
                self.assertRegex(doc["$comment"], r" @ [0-9a-f]{40} ")
                body = {k: v for k, v in doc.items() if k != "operations"}
                mock_base.Draft202012Validator.check_schema(body)
                for spec in doc["operations"].values():
                    self.assertIn(spec["schema"][len("#/$defs/"):], doc["$defs"])

    def test_messages_name_the_field_and_skip_the_unevaluated_cascade(self):
        schemas = mock_base.RequestSchemas("runpod")
        body = {"name": "p", "image": "i", "gpu": {"id": "g"}, "args": ["a"], "env": {}}
        self.assertEqual(schemas.violations("createPod", body),
                         ["args: ['a'] is not of type 'string'"])
        body = dict(body, args="a", entrypoint=["sh"])
        self.assertEqual(schemas.violations("createPod", body),
                         ["$: Unevaluated properties are not allowed ('entrypoint' was unexpected)"])


# --- RunPod -------------------------------------------------------------------
def pod(**fields):
    body = {"name": "berth-chat-0-abc123", "image": "localhost/berth-demo:1",
            "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1}, "cloud": "SECURE",
            "dataCenterIds": ["US-KS-2"], "ports": ["8000/http", "22/tcp"],
            "env": {"GREETING": "hi"}, "args": "httpd -f -p 8000 -h /www"}
    body.update(fields)
    return body


class Runpod(MockCase):
    provider = "runpod"

    def create(self, body):
        return self.mock.call("POST", "/v2/pods", body)

    def assertProblem(self, answer, status):
        code, headers, body = answer
        self.assertEqual(code, status, body)
        self.assertEqual(headers["content-type"], "application/problem+json")
        self.assertEqual(body["status"], status)
        self.assertIsInstance(body["title"], str)
        self.assertIsInstance(body["detail"], str)
        return body

    def test_a_documented_body_is_created(self):
        code, _, body = self.create(pod())
        self.assertEqual(code, 201, body)
        self.assertEqual(body["args"], "httpd -f -p 8000 -h /www")
        self.assertEqual(body["globalNetworking"], {"enabled": False})
        self.assertNoViolations()

    def test_args_as_an_array_is_a_422_with_errors(self):
        body = self.assertProblem(self.create(pod(args=["httpd", "-f"])), 422)
        self.assertEqual(body["errors"], ["args: ['httpd', '-f'] is not of type 'string'"])
        self.assertViolation("launch", "createPod", "args:")

    def test_there_is_no_entrypoint_field(self):
        body = self.assertProblem(self.create(pod(entrypoint=["sh", "-c"])), 422)
        self.assertTrue(any("'entrypoint'" in e for e in body["errors"]), body)
        self.assertViolation("launch", "createPod", "entrypoint")

    def test_ports_are_port_slash_protocol(self):
        body = self.assertProblem(self.create(pod(ports=["8000"])), 422)
        self.assertEqual(body["errors"], ["ports[0]: '8000' is not formatted as port/protocol"])
        self.assertViolation("launch", "createPod", "ports[0]")

    def test_registry_is_a_credential_id_not_an_object(self):
        body = self.assertProblem(self.create(pod(registry={"username": "u", "password": "p"})),
                                  422)
        self.assertTrue(any(e.startswith("registry:") for e in body["errors"]), body)

    def test_handler_rules_are_400s_and_violations(self):
        self.assertProblem(self.create(pod(gpu=None) | {"cpu": None}), 422)  # null is no object
        body = dict(pod())
        del body["gpu"]
        self.assertProblem(self.create(body), 400)
        self.assertViolation("launch", "createPod", "exactly one of gpu or cpu")
        both = {"id": "NVIDIA GeForce RTX 4090", "allowedCudaVersions": ["12.8"],
                "minCudaVersion": "12.4"}
        self.assertProblem(self.create(pod(gpu=both)), 400)
        self.assertViolation("launch", "createPod", "mutually exclusive")

    def test_allowed_cuda_versions_outside_the_catalog_fail_for_capacity(self):
        gpu = {"id": "NVIDIA GeForce RTX 4090", "count": 1}
        body = self.assertProblem(self.create(pod(gpu=dict(gpu, allowedCudaVersions=["11.8"]))),
                                  400)
        self.assertIn("no longer any instances available", body["detail"])
        self.assertProblem(self.create(pod(gpu=dict(gpu, minCudaVersion="13.0"))), 400)
        self.assertNoViolations()  # capacity is no fault of the request
        self.assertProblem(self.create(pod(gpu=dict(gpu, allowedCudaVersions="12.8"))), 422)
        self.assertViolation("launch", "createPod", "gpu.allowedCudaVersions:")
        code, _, made = self.create(pod(gpu=dict(gpu, allowedCudaVersions=["12.4"])))
        self.assertEqual(code, 201, made)
        self.assertEqual(made["cudaVersion"], "12.4")

    def test_registry_credentials(self):
        code, _, made = self.mock.call("POST", "/v2/registries",
                                       {"name": "private", "username": "u", "password": "pw"})
        self.assertEqual(code, 201, made)
        self.assertEqual(set(made), {"id", "name"})
        rid = made["id"]
        dup = self.mock.call("POST", "/v2/registries",
                             {"name": "private", "username": "v", "password": "pw2"})
        self.assertProblem(dup, 400)
        self.assertProblem(self.mock.call("POST", "/v2/registries", {"name": "x"}), 422)
        self.assertViolation("registries", "createRegistry", "'username' is a required property")
        self.assertEqual(self.mock.call("GET", "/v2/registries")[2],
                         {"registries": [{"id": rid, "name": "private"}]})
        self.assertEqual(self.mock.call("GET", "/v2/registries/" + rid)[2],
                         {"id": rid, "name": "private"})
        self.assertProblem(self.mock.call("GET", "/v2/registries/nope"), 404)
        self.assertProblem(self.mock.call("DELETE", "/v2/registries/nope"), 404)

        self.assertProblem(self.create(pod(registry="nope")), 400)
        code, _, p = self.create(pod(registry=rid))
        self.assertEqual(code, 201, p)
        self.assertEqual(p["registry"], rid)
        self.assertProblem(self.mock.call("DELETE", "/v2/registries/" + rid), 400)  # in use
        self.assertEqual(self.mock.call("DELETE", "/v2/pods/" + p["id"])[0], 204)
        self.assertEqual(self.mock.call("DELETE", "/v2/registries/" + rid)[0], 204)
        self.assertProblem(self.mock.call("GET", "/v2/registries/" + rid), 404)

    def test_reset_forgets_violations(self):
        self.create(pod(args=[]))
        self.assertTrue(self.mock.control("GET", "violations"))
        self.mock.control("POST", "reset")
        self.assertNoViolations()


class RunpodLogs(MockCase):
    provider = "runpod"

    def test_catalog_stock_is_scoped_by_cloud_and_count_as_documented(self):
        base = "/v2/catalog/gpus?include=AVAILABILITY&product=POD"
        for query, status, needle in (("&count=0", 422, "count"), ("&count=x", 422, "count"),
                                      ("&cloud=MOON", 422, "cloud")):
            code, headers, body = self.mock.call("GET", base + query)
            self.assertEqual(code, status, body)
            self.assertEqual(headers["content-type"], "application/problem+json")
            self.assertViolation("offers", "listGpuTypes", needle)
        code, headers, body = self.mock.call("GET", "/v2/catalog/gpus?count=2")
        self.assertEqual(code, 400, body)
        self.assertEqual(headers["content-type"], "application/problem+json")
        self.assertViolation("offers", "listGpuTypes", "count")
        # Stock for exactly the tier and count asked; none anywhere: no dataCenters.
        code, _, body = self.mock.call("GET", base + "&cloud=COMMUNITY&count=2")
        self.assertEqual(code, 200, body)
        rtx = next(g for g in body["gpus"] if g["id"] == "NVIDIA GeForce RTX 4090")
        self.assertEqual([d["id"] for d in rtx["dataCenters"]], ["EU-RO-1"])
        self.assertNotIn("stock", rtx["dataCenters"][0])
        code, _, body = self.mock.call("GET", base + "&cloud=COMMUNITY&count=4")
        rtx = next(g for g in body["gpus"] if g["id"] == "NVIDIA GeForce RTX 4090")
        self.assertNotIn("dataCenters", rtx)
        self.assertEqual(rtx["availability"], "NONE")

    def test_log_query_parameters_are_typed_as_documented(self):
        code, _, pod_body = self.mock.call("POST", "/v2/pods", pod())
        self.assertEqual(code, 201, pod_body)
        for query, needle in (("tail=5001", "tail"), ("tail=x", "tail"), ("source=all", "source")):
            code, headers, body = self.mock.call(
                "GET", "/v2/pods/%s/logs?%s" % (pod_body["id"], query))
            self.assertEqual(code, 400, body)
            self.assertEqual(headers["content-type"], "application/problem+json")
            self.assertViolation("logs", "getPodLogs", needle)
        code, _, body = self.mock.call("GET", "/v2/pods/nosuchpod/logs?tail=5")
        self.assertEqual(code, 404, body)


class RunpodHookDocument(MockCase):
    """The launch hook receives the credential the request names."""
    provider = "runpod"

    @classmethod
    def setUpClass(cls):
        cls.sink = tempfile.mkdtemp(prefix="berth-hook-doc.")
        script = os.path.join(cls.sink, "save.py")
        with open(script, "w") as f:
            f.write("import sys, shutil\nshutil.copyfileobj(sys.stdin, open(%r, 'w'))\n"
                    % os.path.join(cls.sink, "doc.json"))
        cls.options = ("--on-launch-cmd", "%s %s" % (sys.executable, script))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.sink, ignore_errors=True)

    def test_registry_credential_in_the_launch_document(self):
        _, _, made = self.mock.call("POST", "/v2/registries",
                                    {"name": "private", "username": "robot", "password": "s3"})
        code, _, _ = self.mock.call("POST", "/v2/pods", pod(registry=made["id"]))
        self.assertEqual(code, 201)
        with open(os.path.join(self.sink, "doc.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["registry_credential"],
                         {"id": made["id"], "name": "private", "username": "robot",
                          "password": "s3"})
        self.assertEqual(doc["request"]["registry"], made["id"])


# --- Lambda -------------------------------------------------------------------
def launch_body(**fields):
    body = {"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10",
            "ssh_key_names": ["berth"], "name": "berth-chat-0-abc123"}
    body.update(fields)
    return body


class Lambda(MockCase):
    provider = "lambda"

    def setUp(self):
        super().setUp()
        code, _, _ = self.mock.call("POST", "/api/v1/ssh-keys",
                                    {"name": "berth", "public_key": PUBKEY})
        self.assertEqual(code, 200)

    def launch(self, body):
        return self.mock.call("POST", "/api/v1/instance-operations/launch", body)

    def assertInvalid(self, answer):
        code, headers, body = answer
        self.assertEqual(code, 400, body)
        self.assertEqual(body["error"]["code"], "global/invalid-parameters")
        self.assertIsInstance(body["error"]["message"], str)
        self.assertIsInstance(body["error"]["suggestion"], str)
        return body

    def test_a_documented_body_launches(self):
        code, _, body = self.launch(launch_body(tags=[{"key": "berth", "value": "x"}]))
        self.assertEqual(code, 200, body)
        self.assertEqual(len(body["data"]["instance_ids"]), 1)
        self.assertNoViolations()

    def test_unknown_fields_are_allowed_as_the_document_allows_them(self):
        # InstanceLaunchRequest sets no additionalProperties, and the
        # document's own example launch sends "quantity".
        code, _, body = self.launch(launch_body(quantity=1, file_system_names=[]))
        self.assertEqual(code, 200, body)
        self.assertNoViolations()

    def test_documented_invalid_bodies_are_400_invalid_parameters(self):
        self.assertInvalid(self.launch(launch_body(name="x" * 65)))
        self.assertViolation("launch", "launchInstance", "name:")
        self.assertInvalid(self.launch(launch_body(ssh_key_names="berth")))
        self.assertInvalid(self.launch(launch_body(region_name="mars-1")))
        self.assertInvalid(self.launch(launch_body(tags=[{"key": "Bad", "value": "x"}])))
        self.assertInvalid(self.launch(launch_body(image={"name": "x"})))
        self.assertInvalid(self.launch(launch_body(ssh_key_names=["berth", "berth"])))
        self.assertViolation("launch", "launchInstance", "exactly one SSH key")
        body = launch_body()
        del body["instance_type_name"]
        self.assertInvalid(self.launch(body))
        self.assertInvalid(self.mock.call("POST", "/api/v1/instance-operations/terminate",
                                          {"instance_ids": "abc"}))
        self.assertViolation("terminate", "terminateInstance", "instance_ids:")
        self.assertInvalid(self.mock.call("POST", "/api/v1/ssh-keys", {"public_key": PUBKEY}))

    def test_unknown_instance_on_terminate_is_404(self):
        code, _, body = self.mock.call("POST", "/api/v1/instance-operations/terminate",
                                       {"instance_ids": ["nope"]})
        self.assertEqual(code, 404)
        self.assertEqual(body["error"]["code"], "global/object-does-not-exist")


class LambdaLimits(MockCase):
    provider = "lambda"
    options = ("--min-interval", "launch=12", "--unhealthy-boot",
               "--provision-seconds", "0.4", "--boot-seconds", "0.6")

    def test_one_launch_per_12_seconds_rate_limited_without_retry_after(self):
        self.mock.call("POST", "/api/v1/ssh-keys", {"name": "berth", "public_key": PUBKEY})
        code, _, body = self.mock.call("POST", "/api/v1/instance-operations/launch",
                                       launch_body())
        self.assertEqual(code, 200, body)
        iid = body["data"]["instance_ids"][0]
        code, headers, body = self.mock.call("POST", "/api/v1/instance-operations/launch",
                                             launch_body(name="second"))
        self.assertEqual(code, 429)
        self.assertEqual(body["error"]["code"], "global/rate-limited")
        self.assertNotIn("retry-after", headers)

        # --unhealthy-boot: booting, then unhealthy, then active.
        seen = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not seen or seen[-1] != "active"):
            status = self.mock.call("GET", "/api/v1/instances/" + iid)[2]["data"]["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            time.sleep(0.05)
        self.assertEqual(seen[-2:], ["unhealthy", "active"])
        self.assertIn(seen[0], ("booting", "unhealthy"))


# --- Vast ---------------------------------------------------------------------
def rent_body(**fields):
    # What Vast's CLI sends (nulls for unset options, env as an object,
    # its runtype words) besides what berth does.
    body = {"client_id": "me", "image": "localhost/berth-demo:1", "label": "berth-chat-0-abc123",
            "disk": 50, "runtype": "ssh_direc ssh_proxy", "price": None, "onstart": None,
            "image_login": None, "extra": None, "cancel_unavail": True,
            "env": {"GREETING": "hi", "-p 8000:8000": "1"}}
    body.update(fields)
    return body


class Vast(MockCase):
    provider = "vastai"

    def add_key(self):
        code, _, body = self.mock.call("POST", "/api/v0/ssh/", {"ssh_key": PUBKEY})
        self.assertEqual(code, 200, body)
        return body

    def rent(self, body, ask=1001):
        return self.mock.call("PUT", "/api/v0/asks/%d/" % ask, body)

    def assertInvalidArgs(self, answer):
        code, _, body = answer
        self.assertEqual(code, 400, body)
        self.assertEqual(body["success"], False)
        self.assertEqual(body["error"], "invalid_args")
        self.assertIsInstance(body["msg"], str)
        return body

    def test_what_vasts_own_cli_sends_is_accepted(self):
        self.add_key()
        code, _, body = self.rent(rent_body())
        self.assertEqual(code, 200, body)
        self.assertEqual(body["success"], True)
        code, _, body = self.rent(rent_body(env="-e GREETING=hi -p 8000:8000", runtype="ssh"),
                                  ask=1003)
        self.assertEqual(code, 200, body)
        self.assertNoViolations()

    def test_env_values_longer_than_256_characters_are_invalid_args(self):
        self.add_key()
        body = self.assertInvalidArgs(self.rent(rent_body(env={"BIG": "x" * 300})))
        self.assertIn("BIG", body["msg"])
        self.assertViolation("launch", "createInstance", "env.BIG")
        self.assertEqual(self.rent(rent_body(env={"OK": "x" * 256}))[0], 200)

    def test_documented_invalid_bodies_are_invalid_args(self):
        self.add_key()
        self.assertInvalidArgs(self.rent(rent_body(image=None)))
        self.assertViolation("launch", "createInstance", "'image' is a required property")
        self.assertInvalidArgs(self.rent(rent_body(runtype="telnet")))
        self.assertInvalidArgs(self.rent(rent_body(args="sleep 1")))
        self.assertInvalidArgs(self.rent(rent_body(env={"N": 5})))
        self.assertInvalidArgs(self.rent(rent_body(disk="big")))

    def test_ssh_key_shapes(self):
        code, _, body = self.mock.call("GET", "/api/v0/ssh/")
        self.assertEqual(code, 404)  # the document's "No SSH keys found for the user."
        made = self.add_key()["key"]
        self.assertEqual(made["public_key"], PUBKEY)
        self.assertEqual(set(made), {"id", "user_id", "public_key", "created_at", "deleted_at"})
        code, _, listed = self.mock.call("GET", "/api/v0/ssh/")
        self.assertEqual(code, 200)
        self.assertIsInstance(listed, list)  # bare, not wrapped
        self.assertEqual(listed[0]["key"], PUBKEY)
        self.assertEqual(listed[0]["id"], made["id"])
        self.assertNotIn("public_key", listed[0])
        code, _, body = self.mock.call("POST", "/api/v0/ssh/", {"key": PUBKEY})
        self.assertEqual((code, body["error"]), (400, "no_ssh_key"))
        self.assertViolation("ssh-keys", "createSshKey", "'ssh_key' is a required property")

    def test_v1_instances_without_the_slash_is_redirected(self):
        code, headers, _ = self.mock.call("GET", "/api/v1/instances?limit=25", auth=False)
        self.assertEqual(code, 301)
        self.assertEqual(headers["location"],
                         "http://127.0.0.1:%d/api/v1/instances/?limit=25" % self.mock.port)
        code, _, body = self.mock.call("GET", "/api/v1/instances/?limit=25")
        self.assertEqual(code, 200)
        self.assertEqual(body["instances"], [])

    def test_a_failed_launch_can_still_carry_new_contract(self):
        self.add_key()
        self.mock.control("POST", "fault", {"op": "launch", "status": 500, "create_anyway": True,
                                            "body": {"success": False, "error": "server_error",
                                                     "msg": "could not start"}})
        code, _, body = self.rent(rent_body())
        self.assertEqual(code, 500)
        self.assertEqual((body["success"], body["error"]), (False, "server_error"))
        cid = body["new_contract"]
        made = self.mock.control("GET", "instances")
        self.assertEqual([(i["id"], i["terminated"]) for i in made], [(str(cid), False)])
        listed = self.mock.call("GET", "/api/v1/instances/")[2]["instances"]
        self.assertEqual([i["id"] for i in listed], [cid])
        self.assertEqual(self.mock.call("GET", "/api/v0/instances/%d/" % cid)[2]
                         ["instances"]["id"], cid)
        # Without a body the error is Vast's usual shape.
        self.mock.control("POST", "fault", {"op": "launch", "create_anyway": True})
        code, _, body = self.rent(rent_body(), ask=1003)
        self.assertEqual(code, 400)
        self.assertEqual(body["success"], False)
        self.assertIn("new_contract", body)

    def test_failure_states_and_status_msg_can_be_pinned(self):
        self.add_key()
        cid = self.rent(rent_body())[2]["new_contract"]
        oci = ("Error response from daemon: OCI runtime create failed: runc create failed: "
               "unable to start container process: exec: \"/start\": no such file or directory")
        self.mock.control("POST", "instances/%d/state" % cid,
                          {"status": "created", "status_msg": oci})
        got = self.mock.call("GET", "/api/v0/instances/%d/" % cid)[2]["instances"]
        self.assertEqual((got["actual_status"], got["status_msg"]), ("created", oci))
        for status in ("exited", "offline"):
            self.mock.control("POST", "instances/%d/state" % cid, {"status": status})
            got = self.mock.call("GET", "/api/v0/instances/%d/" % cid)[2]["instances"]
            self.assertEqual(got["actual_status"], status)
            self.assertNotEqual(got["status_msg"], oci)


class VastLogs(MockCase):
    provider = "vastai"
    options = ("--log-upload-seconds", "0.3")

    def test_logs_are_requested_then_fetched_from_the_url_without_a_key(self):
        code, _, body = self.mock.call("POST", "/api/v0/ssh/", {"ssh_key": PUBKEY})
        self.assertEqual(code, 200, body)
        code, _, body = self.mock.call("PUT", "/api/v0/asks/1001/", rent_body())
        self.assertEqual(code, 200, body)
        iid = body["new_contract"]
        self.mock.control("POST", "instances/%s/logs" % iid, {"text": "a\nb\nc\n"})
        code, _, body = self.mock.call("PUT", "/api/v0/instances/request_logs/%s" % iid,
                                       {"tail": "2"})
        self.assertEqual(code, 200, body)
        self.assertEqual(body["success"], True)
        path = body["result_url"].split("/", 3)[3]
        code, _, text = self.mock.call("GET", "/" + path, auth=False)
        self.assertEqual(code, 404)  # not uploaded yet
        time.sleep(0.4)
        code, _, text = self.mock.call("GET", "/" + path, auth=False)
        self.assertEqual((code, text), (200, "b\nc\n"))
        self.assertNoViolations()

    def test_a_tail_that_is_not_a_string_is_invalid_args(self):
        code, _, body = self.mock.call("PUT", "/api/v0/instances/request_logs/9000001",
                                       {"tail": 5})
        self.assertEqual(code, 400, body)
        self.assertEqual(body["error"], "invalid_args")
        self.assertViolation("logs", "showLogs", "tail")
        code, _, body = self.mock.call("PUT", "/api/v0/instances/request_logs/424242",
                                       {"tail": "5"})
        self.assertEqual((code, body["error"]), (404, "invalid_id"))


class VastRateLimit(MockCase):
    provider = "vastai"
    # Vast's launch limit is 4.5 s with a 12 s penalty; scaled down so the
    # test is quick, same shape.
    options = ("--rate-limit", "launch=0.6:1.5")

    def test_threshold_then_penalty_window(self):
        self.mock.call("POST", "/api/v0/ssh/", {"ssh_key": PUBKEY})
        start = time.monotonic()
        self.assertEqual(self.mock.call("PUT", "/api/v0/asks/1001/", rent_body())[0], 200)
        code, headers, body = self.mock.call("PUT", "/api/v0/asks/1003/", rent_body())
        self.assertLess(time.monotonic() - start, 0.6, "too slow a machine for this test")
        self.assertEqual(code, 429)
        self.assertNotIn("retry-after", headers)
        self.assertIn("too frequent", body["detail"])
        # Past the threshold but inside the penalty: still refused.
        time.sleep(0.8)
        self.assertEqual(self.mock.call("PUT", "/api/v0/asks/1003/", rent_body())[0], 429)
        # Other operations are not limited by it.
        self.assertEqual(self.mock.call("GET", "/api/v1/instances/")[0], 200)
        time.sleep(max(0, start + 0.1 + 1.5 - time.monotonic()) + 0.2)
        self.assertEqual(self.mock.call("PUT", "/api/v0/asks/1003/", rent_body())[0], 200)


# --- the pod launch hook --------------------------------------------------------
class LaunchHook(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="berth-hook-test.")

    def tearDown(self):
        shutil.rmtree(self.scratch, ignore_errors=True)

    def argv(self, doc):
        argv, env = deploy_pod_hook.launch_argv(doc, "podman", self.scratch)
        return argv, env

    def after_image(self, argv, image):
        return argv[argv.index(image) + 1:]

    def runpod_doc(self, **request):
        req = {"name": "berth-web-0-abc123", "image": "img:1", "ports": ["8000/http", "22/tcp"],
               "env": {"SECRET": "s p a c e", "PUBLIC_KEY": PUBKEY}}
        req.update(request)
        return {"provider": "runpod", "name": req["name"], "request": req}

    def test_runpod_plain_args_are_the_command_for_the_images_entrypoint(self):
        argv, env = self.argv(self.runpod_doc(args="sh -c 'echo hi; sleep 1'"))
        self.assertNotIn("--entrypoint", argv)
        self.assertEqual(self.after_image(argv, "img:1"), ["sh", "-c", "echo hi; sleep 1"])
        self.assertEqual(env, {"SECRET": "s p a c e"})
        self.assertNotIn("s p a c e", argv)
        self.assertIn("berth.deployment=web", argv)
        self.assertEqual(argv[argv.index("-p") + 1], "8000:8000")

    def test_runpod_json_start_command(self):
        start = json.dumps({"entrypoint": ["sh", "-c"], "cmd": ["echo hi"]})
        argv, _ = self.argv(self.runpod_doc(args=start))
        self.assertEqual(json.loads(argv[argv.index("--entrypoint") + 1]), ["sh", "-c"])
        self.assertEqual(self.after_image(argv, "img:1"), ["echo hi"])
        argv, _ = self.argv(self.runpod_doc(args=json.dumps({"cmd": ["a", "b c"]})))
        self.assertNotIn("--entrypoint", argv)
        self.assertEqual(self.after_image(argv, "img:1"), ["a", "b c"])
        argv, _ = self.argv(self.runpod_doc(args=""))
        self.assertEqual(self.after_image(argv, "img:1"), [])

    def test_runpod_private_image_uses_an_authfile_not_argv(self):
        doc = self.runpod_doc(image="127.0.0.1:5000/berth/demo:1", registry="r1")
        doc["registry_credential"] = {"id": "r1", "name": "n", "username": "robot",
                                      "password": "pa ss"}
        argv, _ = self.argv(doc)
        self.assertFalse(any("pa ss" in a for a in argv))
        auth = [a for a in argv if a.startswith("--authfile=")]
        self.assertEqual(len(auth), 1)
        path = auth[0].split("=", 1)[1]
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            saved = json.load(f)["auths"]["127.0.0.1:5000"]["auth"]
        self.assertEqual(deploy_pod_hook.base64.b64decode(saved).decode(), "robot:pa ss")

    def vast_doc(self, runtype, **request):
        req = {"image": "img:1", "label": "berth-web-0-abc123",
               "env": {"KEY": "v", "-p 8000:8000": "1", "-p 22:22": "1"}}
        req.update(request)
        return {"provider": "vastai", "name": req["label"], "runtype": runtype, "request": req}

    def test_vast_ssh_runtypes_replace_the_entrypoint_and_run_onstart(self):
        for runtype in ("ssh", "ssh_direct", "ssh_proxy", "jupyter_direct"):
            argv, env = self.argv(self.vast_doc(runtype, onstart="httpd -p 8000 &"))
            self.assertEqual(argv[argv.index("--entrypoint") + 1], "/bin/sh")
            tail = self.after_image(argv, "img:1")
            self.assertEqual(tail[0], "-c")
            self.assertTrue(tail[1].startswith("httpd -p 8000 &\n"), tail)
            self.assertIn(deploy_pod_hook.KEEP_ALIVE, tail[1])
            self.assertEqual(env, {"KEY": "v"})
            self.assertEqual([argv[i + 1] for i, a in enumerate(argv) if a == "-p"],
                             ["8000:8000"])

    def test_vast_args_runtype_keeps_the_entrypoint(self):
        argv, _ = self.argv(self.vast_doc("args", args=["-f", "-p", "8000"]))
        self.assertNotIn("--entrypoint", argv)
        self.assertEqual(self.after_image(argv, "img:1"), ["-f", "-p", "8000"])
        argv, _ = self.argv(self.vast_doc("args", args_str="-f -p '8000'"))
        self.assertEqual(self.after_image(argv, "img:1"), ["-f", "-p", "8000"])

    def test_vast_image_login_uses_an_authfile_not_argv(self):
        doc = self.vast_doc("ssh_direct", image="reg.example:5000/x/y:1",
                            image_login="-u robot -p hunter2 reg.example:5000")
        argv, _ = self.argv(doc)
        self.assertFalse(any("hunter2" in a for a in argv))
        path = [a for a in argv if a.startswith("--authfile=")][0].split("=", 1)[1]
        with open(path) as f:
            self.assertIn("reg.example:5000", json.load(f)["auths"])
        self.assertEqual(deploy_pod_hook.parse_image_login("-u a -p b"), ("a", "b", None))


if __name__ == "__main__":
    unittest.main(verbosity=2)
