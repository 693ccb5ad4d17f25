#!/usr/bin/env python3
"""The Lambda mock holds to Lambda's own document (api_schema.json): bodies it
refuses are refused with Lambda's error shape and recorded as violations,
and its launch limits and unhealthy boot work as its docstring says."""

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
