#!/usr/bin/env python3
"""Lambda Cloud API v1 mock (wire format of Lambda's OpenAPI 1.8.3, as vendored
in alexandervaneck/lambda-ai-cloud-api-client openapi-1.8.3.json @ b7035f7b).

Paths live under /api/v1 (point berth's base_url at http://127.0.0.1:PORT/api/v1).
Reproduced: Bearer or Basic auth; every answer wrapped in {"data": ...} and
every error in {"error": {"code", "message", "suggestion"?}}; /instance-types
`data` is a MAP keyed by type name; prices in integer cents per hour for the
whole instance; specs in GiB; VRAM only inside gpu_description; launch needs a
registered SSH key name; capacity errors are 400 with code
instance-operations/launch/insufficient-capacity; unknown instances are 404
global/object-does-not-exist; instances go booting -> active, and `ip` is
absent until active.

Request bodies (launch, terminate, POST /ssh-keys) are validated against the
document's InstanceLaunchRequest, InstanceTerminateRequest and
AddSSHKeyRequest (api_schema.json); a violation is answered 400
{"error": {"code": "global/invalid-parameters", "message": "Invalid request
data: <violations>", "suggestion": ...}} and recorded in /_mock/violations,
as is a launch that names other than exactly one SSH key (the document's
prose). None of these schemas forbids unknown properties, and the document's
own launch example sends `quantity`, which is not in the schema: unknown
fields are accepted. region_name must be one of the document's region codes
(PublicRegionCode); a listed region without capacity is the capacity error.

Lambda's API has no SSH port field: the user is ubuntu and the port is 22, so
--ssh-host entries given to this mock should listen on port 22 (only the host
part is reported, as `ip`).

Rate limits: Lambda allows one launch per 12 s (or five a minute) besides its
general 1 request/s (the document's introduction); run with
--min-interval launch=12 to get its 429s: {"error": {"code":
"global/rate-limited", ...}} without Retry-After. Neither the code nor the
body is in the document (unverified).

--unhealthy-boot: instances read `unhealthy` (a status the document lists,
which Lambda shows while some instances boot) for their --boot-seconds, after
reading `booting` for their --provision-seconds, then `active`.

Filesystems: GET /file-systems lists them (is_in_use true while a live
instance mounts one); POST /filesystems (FilesystemCreateRequest, 400
global/invalid-parameters on a violation; a second one of a name is 400
global/duplicate) answers {"data": Filesystem} with mount_point
/lambda/nfs/<name>; DELETE /filesystems/<id> answers {"data":
{"deleted_ids"}}, 400 filesystems/filesystem-in-use while mounted, 404
global/object-does-not-exist. A launch whose file_system_mounts name an
unknown filesystem is 404 global/object-does-not-exist, one in another
region 400 instance-operations/launch/file-system-in-wrong-region. This mock
mounts nothing on its hosts.

Fault ops: offers, launch, get, list, terminate, ssh-keys, filesystems.
Statuses for /_mock/instances/<id>/state: booting, active, unhealthy,
terminating, terminated, preempted.
"""

import base64
import re
import time
import uuid

import os
import sys

# The shared mock server lives in providers/common/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
import mock_base  # noqa: E402
from mock_base import Reply  # noqa: E402


def err(status, code, message, suggestion=None):
    e = {"code": code, "message": message}
    if suggestion:
        e["suggestion"] = suggestion
    return Reply(status, {"error": e})


def itype(name, desc, gpu_desc, cents, vcpus, mem, disk, gpus):
    return {"name": name, "description": desc, "gpu_description": gpu_desc,
            "price_cents_per_hour": cents,
            "specs": {"vcpus": vcpus, "memory_gib": mem, "storage_gib": disk, "gpus": gpus}}


def region(name, desc):
    return {"name": name, "description": desc}


class LambdaMock(mock_base.MockApi):
    """Lambda Cloud API v1 mock."""

    provider = "lambda"

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--unhealthy-boot", action="store_true",
                            help="report `unhealthy` while booting (after provisioning)")

    def default_catalog(self):
        return {"data": {
            "gpu_1x_a10": {
                "instance_type": itype("gpu_1x_a10", "1x A10 (24 GB PCIe)", "A10 (24 GB PCIe)",
                                       75, 30, 200, 1400, 1),
                "regions_with_capacity_available": [region("us-east-1", "Virginia, USA"),
                                                    region("us-west-1", "California, USA")]},
            "gpu_8x_h100_sxm5": {
                "instance_type": itype("gpu_8x_h100_sxm5", "8x H100 (80 GB SXM5)",
                                       "H100 (80 GB SXM5)", 2392, 208, 1800, 24780, 8),
                "regions_with_capacity_available": [region("us-south-1", "Texas, USA")]},
            "gpu_1x_gh200": {
                "instance_type": itype("gpu_1x_gh200", "1x GH200 (96 GB)", "GH200 (96 GB)",
                                       149, 64, 432, 4096, 1),
                "regions_with_capacity_available": [region("us-east-3", "Washington DC, USA")]},
            # The x86_64 80 GB single GPU (the GH200 beside it is arm64).
            "gpu_1x_h100_pcie": {
                "instance_type": itype("gpu_1x_h100_pcie", "1x H100 (80 GB PCIe)",
                                       "H100 (80 GB PCIe)", 249, 26, 200, 1024, 1),
                "regions_with_capacity_available": [region("us-west-3", "Utah, USA")]},
            "gpu_1x_a100_sxm4": {
                "instance_type": itype("gpu_1x_a100_sxm4", "1x A100 (40 GB SXM4)",
                                       "A100 (40 GB SXM4)", 129, 30, 200, 512, 1),
                "regions_with_capacity_available": []},  # out of stock everywhere
            "gpu_1x_zz9000": {
                "instance_type": itype("gpu_1x_zz9000", "1x ZZ9000 (48 GB)", "ZZ9000 (48 GB)",
                                       "250", 16, 64, 512, 1),  # a string-typed price
                "regions_with_capacity_available": [region("europe-central-1", "Germany")]},
        }}

    def extra_reset(self):
        self.ssh_keys = []
        self.filesystems = {}  # id -> Filesystem

    def authorized(self, handler):
        auth = handler.headers.get("Authorization", "")
        key = self.args.api_key
        if auth == "Bearer " + key or auth == "Basic " + key:
            return True
        if auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode() in (key + ":", key)
            except ValueError:
                return False
        return False

    def invalid(self, messages):
        return err(400, "global/invalid-parameters",
                   "Invalid request data: " + "; ".join(messages),
                   "Correct the request body; see the Lambda Cloud API reference.")

    def rate_limited(self, op):
        # No Retry-After: Lambda's documented limits are the client's to keep.
        return err(429, "global/rate-limited",
                   "Too many requests: at most one launch per %g seconds."
                   % (self.limit_of(op) or 12) if op == "launch"
                   else "Too many requests.",
                   "Wait before trying again.")

    def unauthorized(self):
        return err(401, "global/invalid-api-key", "API key was invalid, expired, or deleted.",
                   "Check your API key or create a new one, then try again.")

    def not_found(self, method, path):
        return err(404, "global/object-does-not-exist", "Not found: %s %s" % (method, path))

    def route(self, method, path, query, body):
        p = path.rstrip("/")
        if not p.startswith("/api/v1"):
            return None
        p = p[len("/api/v1"):]
        if method == "GET" and p == "/instance-types":
            return "offers", lambda: Reply(200, self.catalog)
        if method == "GET" and p == "/ssh-keys":
            return "ssh-keys", lambda: Reply(200, {"data": list(self.ssh_keys)})
        if method == "POST" and p == "/ssh-keys":
            return "ssh-keys", lambda: self.add_key(body)
        if method == "POST" and p == "/instance-operations/launch":
            return "launch", lambda: self.launch(body)
        if method == "GET" and p == "/instances":
            return "list", self.list_instances
        m = re.fullmatch(r"/instances/([^/]+)", p)
        if method == "GET" and m:
            return "get", lambda: self.get(m.group(1))
        if method == "POST" and p == "/instance-operations/terminate":
            return "terminate", lambda: self.terminate(body)
        # The document lists at /file-systems but creates and deletes at /filesystems.
        if method == "GET" and p == "/file-systems":
            return "filesystems", self.list_filesystems
        if method == "POST" and p == "/filesystems":
            return "filesystems", lambda: self.create_filesystem(body)
        m = re.fullmatch(r"/filesystems/([^/]+)", p)
        if method == "DELETE" and m:
            return "filesystems", lambda: self.delete_filesystem(m.group(1))
        return None

    # --- persistent filesystems ---------------------------------------------

    def create_filesystem(self, body):
        errors = self.violations_of("createFilesystem", body)
        if errors:
            return self.invalid(errors)
        with self.lock:
            if any(f["name"] == body["name"] for f in self.filesystems.values()):
                return err(400, "global/duplicate",
                           "A filesystem with this name already exists.")
            fid = uuid.uuid4().hex
            fs = {"id": fid, "name": body["name"], "mount_point": "/lambda/nfs/" + body["name"],
                  "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                  "created_by": {"id": "mock-user", "email": "mock@example.com",
                                 "status": "active"},
                  "is_in_use": False,
                  "region": {"name": body["region"], "description": "mock region"},
                  "bytes_used": 0}
            self.filesystems[fid] = fs
        return Reply(200, {"data": dict(fs)})

    def filesystem_users(self, fid):
        return [i.id for i in self.instances.values() if i.terminated_at is None and any(
            m.get("file_system_id") == fid for m in i.request.get("file_system_mounts") or [])]

    def list_filesystems(self):
        with self.lock:
            out = []
            for fs in self.filesystems.values():
                out.append(dict(fs, is_in_use=bool(self.filesystem_users(fs["id"]))))
            return Reply(200, {"data": out})

    def delete_filesystem(self, fid):
        with self.lock:
            if fid not in self.filesystems:
                return err(404, "global/object-does-not-exist", "Filesystem was not found.")
            if self.filesystem_users(fid):
                return err(400, "filesystems/filesystem-in-use",
                           "Filesystem is currently mounted to an instance.",
                           "Terminate the instances using it first.")
            del self.filesystems[fid]
        return Reply(200, {"data": {"deleted_ids": [fid]}})

    def add_key(self, body):
        errors = self.violations_of("addSSHKey", body)
        if errors:
            return self.invalid(errors)
        with self.lock:
            if any(k["name"] == body["name"] for k in self.ssh_keys):
                return err(400, "global/duplicate", "An SSH key with this name already exists.")
            key = {"id": uuid.uuid4().hex, "name": body["name"],
                   "public_key": body.get("public_key") or "ssh-ed25519 AAAAgenerated lambda"}
            self.ssh_keys.append(key)
        return Reply(200, {"data": key})

    def find_offer(self, type_name):
        data = (self.catalog or {}).get("data") or {}
        return data.get(type_name)

    def launch(self, body):
        errors = self.violations_of("launchInstance", body)
        if errors:
            return self.invalid(errors)
        names = body["ssh_key_names"]
        if len(names) != 1:  # "Currently, exactly one SSH key must be specified."
            rule = ["ssh_key_names: exactly one SSH key must be specified"]
            self.record_violation("launchInstance", rule)
            return self.invalid(rule)
        if not any(k["name"] == names[0] for k in self.ssh_keys):
            return err(404, "global/object-does-not-exist",
                       "SSH key %r does not exist." % names[0],
                       "Check the SSH key name, or add the key first.")
        name = body.get("name")
        offer = self.find_offer(body["instance_type_name"])
        if offer is None:
            return err(400, "global/invalid-parameters",
                       "Unknown instance type %r" % body["instance_type_name"])
        with self.lock:
            for mount in body.get("file_system_mounts") or []:
                fs = self.filesystems.get(mount["file_system_id"])
                if fs is None:
                    return err(404, "global/object-does-not-exist",
                               "Filesystem %s not found." % mount["file_system_id"])
                if fs["region"]["name"] != body["region_name"]:
                    return err(400, "instance-operations/launch/file-system-in-wrong-region",
                               "The filesystem is in %s, not in %s."
                               % (fs["region"]["name"], body["region_name"]))
        regions = [r["name"] for r in offer.get("regions_with_capacity_available", [])]
        if body["region_name"] not in regions:
            return err(400, "instance-operations/launch/insufficient-capacity",
                       "Not enough capacity to fulfill launch request.",
                       "Choose an instance type with more availability, or try again later.")
        iid = uuid.uuid4().hex
        self.add_instance(iid, name, body, {"type": offer["instance_type"],
                                            "region": body["region_name"]})
        return Reply(200, {"data": {"instance_ids": [iid]}})

    def status_snapshot(self, inst):
        if inst.pinned:
            return inst.pinned
        phase = inst.phase()
        if phase == "terminated":
            return "terminated"
        if phase == "booting" and self.args.unhealthy_boot:
            return "unhealthy"
        return "active" if phase == "running" else "booting"

    def render(self, inst):
        status = self.status_snapshot(inst)
        req = inst.request
        d = {"id": inst.id, "status": status,
             "ssh_key_names": req.get("ssh_key_names", []), "file_system_names": [],
             "region": {"name": inst.extra["region"], "description": "mock region"},
             "instance_type": inst.extra["type"], "actions": {},
             "hostname": "ip-" + inst.ssh_host.replace(".", "-"), "is_reserved": False}
        if inst.name is not None:
            d["name"] = inst.name
        if req.get("tags"):
            d["tags"] = req["tags"]
        if status == "active":
            d["ip"] = inst.ssh_host
            d["private_ip"] = "10.0.0.%d" % (len(self.instances) % 250 + 1)
        return d

    def get(self, iid):
        inst = self.instances.get(iid)
        if inst is None:  # terminated instances stay readable, as "terminated"
            return err(404, "global/object-does-not-exist", "Instance %s not found." % iid)
        return Reply(200, {"data": self.render(inst)})

    def list_instances(self):
        with self.lock:
            live = [i for i in self.instances.values() if i.terminated_at is None]
            return Reply(200, {"data": [self.render(i) for i in live]})

    def terminate(self, body):
        errors = self.violations_of("terminateInstance", body)
        if errors:
            return self.invalid(errors)
        with self.lock:
            found = [self.live(i) for i in body["instance_ids"]]
            if any(f is None for f in found):
                return err(404, "global/object-does-not-exist",
                           "Specified instance does not exist.")
            out = []
            for inst in found:
                self.terminate_instance(inst)
                d = self.render(inst)
                d["status"] = "terminating"
                out.append(d)
        return Reply(200, {"data": {"terminated_instances": out}})


if __name__ == "__main__":
    mock_base.serve(LambdaMock)
