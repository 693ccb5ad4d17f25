#!/usr/bin/env python3
"""The RunPod mock holds to RunPod's own document (api_schema.json): bodies it
refuses are refused with RunPod's error shape and recorded as violations,
bodies it allows pass, and what the mock adds for tests works as its
docstring says."""

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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))

from mock_testing import KEY, PUBKEY, Mock, MockCase, mock_base  # noqa: E402,F401


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
