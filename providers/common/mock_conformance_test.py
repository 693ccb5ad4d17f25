#!/usr/bin/env python3
"""The request schemas each mock enforces are valid and name their source,
and the pod launch hook of the e2e environment starts containers as the
documents say (checked without starting any). Each mock's own conformance
test is providers/<name>/mock_test.py."""

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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "e2e"))

import deploy_pod_hook  # noqa: E402
from mock_testing import KEY, PUBKEY, mock_base  # noqa: E402,F401


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
