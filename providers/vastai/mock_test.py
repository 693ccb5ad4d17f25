#!/usr/bin/env python3
"""The Vast.ai mock holds to Vast's own document (api_schema.json): bodies it
refuses are refused with Vast's error shape and recorded as violations, and
its launch rate limit, key listing shapes, trailing-slash redirect and logs
work as its docstring says."""

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
