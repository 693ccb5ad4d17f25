#!/usr/bin/env python3
"""RunPod REST v2 mock (wire format of runpod/docs api-reference-v2/openapi.json
@ a900806e).

Point berth's base_url at http://127.0.0.1:PORT (paths /v2/...).
Reproduced: Bearer auth; RFC 9457 problem+json errors {"title", "status",
"detail", "errors"?}; the GPU catalog needs include=AVAILABILITY together with
product (400 otherwise), and only then carries availability, dataCenters and
cudaVersions; `cloud` (SECURE | COMMUNITY, default SECURE) and `count`
(>= 1, default 1) are valid only with it (400 otherwise; a malformed value
is a 422) and scope the stock: dataCenters lists only the data centers with
stock for that tier and count, and is omitted when there is none anywhere;
prices are USD per hour for ONE GPU; memory in GB; availability
NONE|LOW|MEDIUM|HIGH per data center. A data center's stock per tier is the
mock-only key "stock": {"SECURE": N, "COMMUNITY": N}, the largest count in
stock there (never answered); without it, a tier the GPU is priced in has
stock up to its maxCount. Create refuses with the capacity detail when no
data center the request allows has stock for its tier and count, as the
catalog said; pods go PROVISIONING ->
STARTING -> RUNNING; `ssh.direct` and `runtime` are null until RUNNING;
DELETE answers 204 with no body; 404 for unknown pods; RateLimit/
RateLimit-Policy headers on every answer (429 fault bodies should carry
Retry-After, as the real API does).

Create (POST /v2/pods) validates the body against the document's
CreatePodRequest (api_schema.json): it allows no unknown property
(unevaluatedProperties: false, so there is no `entrypoint`), `args` is ONE
string, `registry` is the id of a registry credential (or null). A body that
breaks it, or has a port not formatted as port/protocol ("8000/http",
"22/tcp"; the document's prose), is answered 422 {"title": "Unprocessable
Entity", "status": 422, "detail": "Request validation failed.", "errors":
["args: [...] is not of type 'string'", ...]} and recorded in
/_mock/violations. The document's handler rules answer 400 (and are
recorded too): exactly one of gpu or cpu; a non-empty gpu.allowedCudaVersions together with gpu.minCudaVersion; both
mounts.persistent and mounts.network. Then, in order, 400s that depend on
state: an unknown templateId is 404 (this mock has no templates); cpu pods
are refused (this mock serves GPU pods only); an unknown GPU; a count above
maxCount; `registry` naming no credential; and capacity, whose only signal is
the `detail` text: no data center with stock, or gpu.allowedCudaVersions /
gpu.minCudaVersion excluding every CUDA version the catalog lists as
available for that GPU (the catalog's cudaVersions). 402 (balance) and 403
(no access to the GPU pool) come from faults.

Network volumes (/v2/network-volumes): POST {name, size, dataCenter}
(CreateNetworkVolumeRequest; 422 as above; an unknown data center is a 400
problem) answers 201 NetworkVolume; GET lists {"networkVolumes": [...]};
DELETE answers 204, or 404 when unknown. Not in the document, so modelled
and marked unverified in providers/runpod/runpod_provider.h: deleting a
volume a live pod mounts is a 400 problem, and a pod whose mounts.network
volume is in none of its dataCenterIds is a 400 problem. Each volume's
files live in a directory under --volume-dir; the launch document names it
(network_volume_dirs) so the hook mounts the same files into every pod.

Registry credentials (/v2/registries): POST {name, username, password}
(CreateRegistryRequest; 422 as above) answers 201 {"id", "name"}; names are
unique (a second one is a 400 problem); GET lists {"registries": [{id,
name}]}; GET /v2/registries/<id> answers {id, name}; DELETE answers 204, or
400 while a live pod uses the credential; unknown ids are 404 problems.
Username and password are never answered back, as the document says.

Pods are containers. This mock does not run them: a launched pod is a record
of the create request (image, env, ports, args) plus the next --ssh-host
endpoint, reported as ssh.direct and as runtime.ports[private=22]. Every other
requested port "N/tcp" is reported as public port N on the same host. Tests
that need the container to exist pass --on-launch-cmd (the JSON on stdin
carries the full create request, including env and PUBLIC_KEY, and, when the
request names a registry credential, "registry_credential": {"id", "name",
"username", "password"}, which the real provider uses to pull the image) to
start it, e.g. with podman on the SSH host, and --on-terminate-cmd to remove
it.

A pod whose container exited reads EXITED when --container-status-cmd
says so (the launch hook's containers are real; see mock_base).

Logs (GET /v2/pods/{id}/logs, getPodLogs): `source` (container | system)
and `tail` (an integer 0..5000, default 100) are checked as the document
types them (400 problem otherwise, recorded in /_mock/violations); the
answer is text/event-stream, one event per line: "id: <ts>/<seq>" and
"data: {"ts", "source", "line"}", then, as the real stream stays open for
new lines, a keep-alive comment every half second for 30 s or until the
client goes. The lines are the pod's container log (--container-logs-cmd
reads the real container's; see mock_base); `system` adds a line of the
mock's own. Unknown pods are 404 problems.

Fault ops: offers, launch, get, list, terminate, registries, logs.
Statuses for /_mock/instances/<id>/state: PROVISIONING, STARTING, RUNNING,
EXITED, ERROR, TERMINATED.
"""

import json
import os
import random
import re
import string
import time

import os
import sys

# The shared mock server lives in providers/common/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
import mock_base  # noqa: E402
from mock_base import Reply  # noqa: E402

CAPACITY_DETAIL = ("There are no longer any instances available with the requested "
                   "specifications. Please refresh and try again.")


def cuda_key(version):
    """12.11 above 12.2: CUDA versions compare as (major, minor), as the
    document says of minCudaVersion."""
    major, _, minor = str(version).partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return -1, -1


def rfc3339(wall):
    """A Unix time as RunPod writes its dates: 2026-03-13T20:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


def problem(status, title, detail, errors=None):
    body = {"title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Reply(status, body, content_type="application/problem+json")


def gpu(gid, name, pool, maker, mem, sprice, cprice, smax, cmax, avail, dcs):
    """dcs: (id, availability) or (id, availability, {"SECURE": n, "COMMUNITY": n})."""
    def dc(entry):
        d = {"id": entry[0], "name": entry[0], "availability": entry[1]}
        if len(entry) > 2:
            d["stock"] = entry[2]
        return d
    return {"id": gid, "name": name, "pool": pool, "manufacturer": maker, "memory": mem,
            "secure": sprice is not None, "community": cprice is not None,
            "price": {"secure": sprice, "community": cprice},
            "maxCount": {"secure": smax, "community": cmax},
            "availability": avail,
            "dataCenters": [dc(e) for e in dcs],
            # AMD machines report no CUDA version: the document omits the list.
            **({"cudaVersions": [{"version": "12.4", "available": True},
                                 {"version": "12.8", "available": True}]}
               if maker == "NVIDIA" else {})}


class RunpodMock(mock_base.MockApi):
    """RunPod REST v2 mock."""

    provider = "runpod"

    def default_catalog(self):
        return {"gpus": [
            # Community capacity only in Romania, up to 2 GPUs; secure only in
            # Kansas: the cheap tier is not where the secure stock is.
            gpu("NVIDIA GeForce RTX 4090", "RTX 4090", "ADA_24", "NVIDIA", 24, 0.69, 0.34, 8, 4,
                "HIGH", [("US-KS-2", "HIGH", {"SECURE": 8, "COMMUNITY": 0}),
                         ("EU-RO-1", "LOW", {"SECURE": 0, "COMMUNITY": 2})]),
            gpu("NVIDIA H100 80GB HBM3", "H100 SXM", "HOPPER_141", "NVIDIA", 80, 2.99, None, 8, 0,
                "MEDIUM", [("US-TX-3", "MEDIUM"), ("CA-MTL-1", "NONE")]),
            gpu("NVIDIA A100 80GB PCIe", "A100 PCIe", "AMPERE_80", "NVIDIA", "80", "1.64", "1.19",
                8, 2, "LOW", [("US-KS-2", "LOW")]),  # string-typed numbers
            gpu("AMD Instinct MI300X OAM", "MI300X", "MI300X", "AMD", 192, 2.49, None, 8, 0,
                "LOW", [("EU-RO-1", "LOW")]),
            gpu("NVIDIA ZZ9000", "ZZ9000", "ZZ", "NVIDIA", 48, 0.99, None, 1, 0, "HIGH",
                [("US-KS-2", "HIGH")]),
            gpu("NVIDIA L4", "L4", "ADA_24", "NVIDIA", 24, 0.43, 0.28, 8, 8, "NONE",
                [("US-KS-2", "NONE")]),
        ]}

    def common_headers(self):
        return {"RateLimit": '"minute";r=57;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012',
                "RateLimit-Policy": '"minute";q=60;w=60, "hour";q=3000;w=3600, '
                                    '"day";q=50000;w=86400'}

    def extra_reset(self):
        self.registries = {}  # id -> {"id", "name", "username", "password"}
        self.volumes = {}  # id -> NetworkVolume {"id", "name", "size", "dataCenter", "type"}

    def rate_limited(self, op):
        r = problem(429, "Too Many Requests", "rate limit exceeded for the minute window")
        r.headers["Retry-After"] = "2"
        return r

    def unauthorized(self):
        return problem(401, "Unauthorized", "missing or invalid API key")

    def not_found(self, method, path):
        return problem(404, "Not Found", "no route for %s %s" % (method, path))

    def route(self, method, path, query, body):
        p = path.rstrip("/")
        if method == "GET" and p == "/v2/catalog/gpus":
            return "offers", lambda: self.catalog_answer(query)
        if method == "POST" and p == "/v2/pods":
            return "launch", lambda: self.create(body)
        if method == "POST" and p == "/v2/registries":
            return "registries", lambda: self.create_registry(body)
        if method == "GET" and p == "/v2/registries":
            return "registries", self.list_registries
        m = re.fullmatch(r"/v2/registries/([^/]+)", p)
        if m and method == "GET":
            return "registries", lambda: self.get_registry(m.group(1))
        if m and method == "DELETE":
            return "registries", lambda: self.delete_registry(m.group(1))
        if method == "GET" and p == "/v2/network-volumes":
            return "volumes", self.list_volumes
        if method == "POST" and p == "/v2/network-volumes":
            return "volumes", lambda: self.create_volume(body)
        m = re.fullmatch(r"/v2/network-volumes/([^/]+)", p)
        if m and method == "GET":
            return "volumes", lambda: self.get_volume(m.group(1))
        if m and method == "DELETE":
            return "volumes", lambda: self.delete_volume(m.group(1))
        if method == "GET" and p == "/v2/pods":
            return "list", self.list_pods
        m = re.fullmatch(r"/v2/pods/([^/]+)/logs", p)
        if m and method == "GET":
            return "logs", lambda: self.pod_logs(m.group(1), query)
        m = re.fullmatch(r"/v2/pods/([^/]+)", p)
        if m and method == "GET":
            return "get", lambda: self.get(m.group(1))
        if m and method == "DELETE":
            return "terminate", lambda: self.delete(m.group(1))
        return None

    @staticmethod
    def stock(spec, dc, cloud):
        """The largest GPU count data center `dc` has in stock on `cloud`
        (SECURE | COMMUNITY) for GPU `spec`."""
        if dc.get("availability") in (None, "NONE"):
            return 0
        if "stock" in dc:
            return int(dc["stock"].get(cloud, 0))
        key = cloud.lower()
        if (spec.get("price") or {}).get(key) is None:
            return 0
        return int((spec.get("maxCount") or {}).get(key) or 0)

    def catalog_answer(self, query):
        include = query.get("include", [""])[0]
        availability = "AVAILABILITY" in include.split(",")
        if availability and not query.get("product"):
            return problem(400, "Bad Request", "include=AVAILABILITY requires product")
        for param in ("cloud", "count"):
            if param in query and not availability:
                message = "%s is valid only with include=AVAILABILITY" % param
                self.record_violation("listGpuTypes", [message])
                return problem(400, "Bad Request", message)
        cloud = query.get("cloud", ["SECURE"])[0]
        count_text = query.get("count", ["1"])[0]
        errors = []
        if cloud not in ("SECURE", "COMMUNITY"):
            errors.append("cloud: %r is not one of ['SECURE', 'COMMUNITY']" % cloud)
        if not re.fullmatch(r"[1-9][0-9]{0,3}", count_text):
            errors.append("count: %r is not an integer >= 1" % count_text)
        if errors:
            self.record_violation("listGpuTypes", errors)
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors)
        count = int(count_text)
        data = self.catalog
        if not isinstance(data, dict):
            return Reply(200, data)
        gpus = []
        for g in data.get("gpus", []):
            if not isinstance(g, dict):
                gpus.append(g)
                continue
            g = dict(g)
            dcs = g.pop("dataCenters", None)
            if not availability:
                g.pop("availability", None)
                g.pop("cudaVersions", None)
            elif isinstance(dcs, list):
                # Only data centers with stock for this tier and count; none
                # at all: no dataCenters, availability NONE.
                listed = [{k: v for k, v in d.items() if k != "stock"}
                          for d in dcs
                          if isinstance(d, dict) and self.stock(g, d, cloud) >= count]
                if listed:
                    g["dataCenters"] = listed
                else:
                    g["availability"] = "NONE"
            elif dcs is not None:
                g["dataCenters"] = dcs  # a test's malformed catalog, as given
            gpus.append(g)
        return Reply(200, dict(data, gpus=gpus))

    def find_gpu(self, gid):
        for g in (self.catalog or {}).get("gpus", []):
            if g.get("id") == gid:
                return g
        return None

    def create(self, body):
        errors = self.violations_of("createPod", body)
        if not errors:
            # The document gives ports' format in prose only ("formatted as
            # port/protocol"); the mock reads them back, so it holds them to it.
            errors = ["ports[%d]: %r is not formatted as port/protocol" % (i, p)
                      for i, p in enumerate(body.get("ports") or [])
                      if not re.fullmatch(r"\d+/(tcp|http|udp)", p)]
            self.record_violation("createPod", errors)
        if errors:
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors)
        # Rules the document leaves to the handler (400, not 422).
        g = body.get("gpu")
        rules = []
        if (g is None) == (body.get("cpu") is None):
            rules.append("exactly one of gpu or cpu must be set")
        if g and g.get("allowedCudaVersions") and g.get("minCudaVersion"):
            rules.append("gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive")
        mounts = body.get("mounts") or {}
        if mounts.get("persistent") and mounts.get("network"):
            rules.append("mounts.persistent and mounts.network are mutually exclusive")
        if rules:
            self.record_violation("createPod", rules)
            return problem(400, "Bad Request", "; ".join(rules))
        if body.get("templateId"):
            return problem(404, "Not Found", "template %s not found" % body["templateId"])
        if g is None:
            return problem(400, "Bad Request", "this mock serves GPU pods only")
        spec = self.find_gpu(g["id"])
        if spec is None:
            return problem(400, "Bad Request", "unknown GPU type %r" % g["id"])
        count = g.get("count", 1)
        cloud = body.get("cloud", "SECURE").lower()
        max_count = (spec.get("maxCount") or {}).get(cloud) or 0
        if count > int(max_count):
            return problem(400, "Bad Request", "gpu count %d exceeds the maximum of %s for %s cloud"
                           % (count, max_count, cloud))
        credential = None
        if body.get("registry") is not None:
            with self.lock:
                credential = self.registries.get(body["registry"])
            if credential is None:
                return problem(400, "Bad Request",
                               "container registry credential %s not found" % body["registry"])
        dcs = body.get("dataCenterIds") or [d["id"] for d in spec.get("dataCenters", [])]
        for mount in mounts.get("network") or []:
            # NetworkMount.volumeId: "an existing NetworkVolume in the same
            # data center as the pod": the pod can only go where it is.
            with self.lock:
                vol = self.volumes.get(mount["volumeId"])
            if vol is None:
                return problem(400, "Bad Request",
                               "network volume %s not found" % mount["volumeId"])
            dcs = [d for d in dcs if d == vol["dataCenter"]]
            if not dcs:
                return problem(400, "Bad Request",
                               "network volume %s is in %s, not in the requested data centers"
                               % (vol["id"], vol["dataCenter"]))
        usable = [d["id"] for d in spec.get("dataCenters", [])
                  if d["id"] in dcs and self.stock(spec, d, cloud.upper()) >= count]
        cuda = self.usable_cuda(spec, g)
        if not usable or not cuda:
            return problem(400, "Bad Request", CAPACITY_DETAIL)
        price = float((spec.get("price") or {}).get(cloud) or 0) * count
        iid = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(14))
        inst = self.add_instance(iid, body["name"], body,
                                 {"dc": usable[0], "cost": round(price, 4), "cloud": cloud,
                                  "cuda": cuda[-1],
                                  "credential": dict(credential) if credential else None})
        return Reply(201, self.render(inst))

    @staticmethod
    def usable_cuda(spec, g):
        """The CUDA versions with capacity that the request accepts, best
        last. Matching is exact for allowedCudaVersions (a version no machine
        reports is a capacity error, not a fallback) and numeric for
        minCudaVersion; an empty list constrains nothing. A GPU the catalog
        lists no CUDA versions for (AMD) has machines that report none: [None]
        without a constraint, nothing with one."""
        allowed, floor = g.get("allowedCudaVersions"), g.get("minCudaVersion")
        listed = spec.get("cudaVersions") or []
        if not listed:
            return [] if (allowed or floor) else [None]
        versions = [v["version"] for v in listed if v.get("available")]
        if allowed:
            versions = [v for v in versions if v in allowed]
        if floor:
            versions = [v for v in versions if cuda_key(v) >= cuda_key(floor)]
        return sorted(versions, key=cuda_key)

    def launch_document(self, inst):
        doc = super().launch_document(inst)
        # Where each network volume's data lives on this machine, so that the
        # hook mounts the same files into every pod that attaches it.
        doc["network_volume_dirs"] = {
            m["volumeId"]: self.volume_dir(m["volumeId"])
            for m in ((inst.request.get("mounts") or {}).get("network") or [])}
        if inst.extra.get("credential"):
            # The provider pulls private images with the credential the
            # request names; the hook needs it to do the same.
            doc["registry_credential"] = inst.extra["credential"]
        return doc

    # --- registry credentials -----------------------------------------------
    def create_registry(self, body):
        errors = self.violations_of("createRegistry", body)
        if errors:
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors)
        with self.lock:
            if any(r["name"] == body["name"] for r in self.registries.values()):
                return problem(400, "Bad Request",
                               "a container registry credential named %r already exists"
                               % body["name"])
            rid = "".join(random.choice(string.ascii_lowercase + string.digits)
                          for _ in range(8))
            self.registries[rid] = {"id": rid, "name": body["name"],
                                    "username": body["username"], "password": body["password"]}
        return Reply(201, {"id": rid, "name": body["name"]})

    def list_registries(self):
        with self.lock:
            return Reply(200, {"registries": [{"id": r["id"], "name": r["name"]}
                                              for r in self.registries.values()]})

    def get_registry(self, rid):
        with self.lock:
            r = self.registries.get(rid)
        if r is None:
            return problem(404, "Not Found", "container registry credential %s not found" % rid)
        return Reply(200, {"id": r["id"], "name": r["name"]})

    def delete_registry(self, rid):
        with self.lock:
            if rid not in self.registries:
                return problem(404, "Not Found",
                               "container registry credential %s not found" % rid)
            users = [i.id for i in self.instances.values()
                     if i.terminated_at is None and i.request.get("registry") == rid]
            if users:
                return problem(400, "Bad Request",
                               "container registry credential %s is in use by pod %s"
                               % (rid, ", ".join(users)))
            del self.registries[rid]
        return Reply(204)

    # --- network volumes ----------------------------------------------------
    def volume_dir(self, vid):
        path = os.path.join(self.volume_root, vid)
        os.makedirs(path, exist_ok=True)
        return path

    def create_volume(self, body):
        errors = self.violations_of("createNetworkVolume", body)
        if errors:
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors)
        known = {d["id"] for g in self.catalog.get("gpus", []) for d in g.get("dataCenters", [])}
        if body["dataCenter"] not in known:
            return problem(400, "Bad Request", "unknown data center %r" % body["dataCenter"])
        vid = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        vol = {"id": vid, "name": body["name"], "size": body["size"],
               "dataCenter": body["dataCenter"], "type": body.get("type") or "STANDARD"}
        with self.lock:
            self.volumes[vid] = vol
        return Reply(201, dict(vol))

    def list_volumes(self):
        with self.lock:
            return Reply(200, {"networkVolumes": [dict(v) for v in self.volumes.values()]})

    def get_volume(self, vid):
        with self.lock:
            v = self.volumes.get(vid)
        if v is None:
            return problem(404, "Not Found", "network volume %s not found" % vid)
        return Reply(200, dict(v))

    def delete_volume(self, vid):
        with self.lock:
            if vid not in self.volumes:
                return problem(404, "Not Found", "network volume %s not found" % vid)
            users = [i.id for i in self.instances.values() if i.terminated_at is None and any(
                m.get("volumeId") == vid
                for m in ((i.request.get("mounts") or {}).get("network") or []))]
            if users:
                return problem(400, "Bad Request", "network volume %s is in use by pod %s"
                               % (vid, ", ".join(users)))
            del self.volumes[vid]
        return Reply(204)

    def status_snapshot(self, inst):
        if inst.pinned:
            return inst.pinned
        phase = inst.phase()
        if phase == "running" and inst.container_exited:
            return "EXITED"  # the pod is its container (--container-status-cmd)
        return {"provisioning": "PROVISIONING", "booting": "STARTING", "running": "RUNNING",
                "terminated": "TERMINATED"}[phase]

    def render(self, inst):
        status = self.status_snapshot(inst)
        req = inst.request
        ports = req.get("ports") or []
        pod = {"id": inst.id, "name": inst.name, "status": status,
               "actions": ["stop", "terminate"] if status != "TERMINATED" else [],
               "image": req.get("image"), "args": req.get("args") or "",
               "disk": req.get("disk", 50),
               "mounts": req.get("mounts") or {}, "ports": ports, "env": req.get("env") or {},
               "registry": req.get("registry"), "cloud": inst.extra["cloud"].upper(),
               "dataCenterId": inst.extra["dc"], "cudaVersion": inst.extra["cuda"],
               "ssh": {"proxy": {"host": "ssh.runpod.io", "port": 22,
                                 "username": "%s-64411eb2" % inst.id,
                                 "command": "ssh %s-64411eb2@ssh.runpod.io" % inst.id},
                       "direct": None},
               "template": None,
               "cost": inst.extra["cost"] if status == "RUNNING" else 0,
               "locked": False, "runtime": None,
               "createdAt": rfc3339(inst.created_wall), "startedAt": None,
               "globalNetworking": {"enabled": False},
               "gpu": {"id": req["gpu"]["id"], "count": req["gpu"].get("count", 1)}}
        if status == "RUNNING":
            runtime_ports = []
            for spec in ports:
                num, _, kind = spec.partition("/")
                if kind == "http":
                    continue  # served through RunPod's proxy, not a public TCP port
                public = inst.ssh_port if num == "22" else int(num)
                runtime_ports.append({"private": int(num), "public": public, "type": kind,
                                      "ip": inst.ssh_host})
            pod["runtime"] = {"uptime": 1, "ports": runtime_ports}
            pod["startedAt"] = rfc3339(inst.created_wall + inst.provision_seconds +
                                       inst.boot_seconds)
            if "22/tcp" in ports:
                pod["ssh"]["direct"] = {"host": inst.ssh_host, "port": inst.ssh_port,
                                        "username": "root",
                                        "command": "ssh root@%s -p %d" % (inst.ssh_host,
                                                                          inst.ssh_port)}
        return pod

    def get(self, iid):
        inst = self.live(iid)
        if inst is None:
            return problem(404, "Not Found", "pod %s not found" % iid)
        return Reply(200, self.render(inst))

    def pod_logs(self, iid, query):
        errors = []
        source = query.get("source", [None])[0]
        if source is not None and source not in ("container", "system"):
            errors.append("source: %r is not one of ['container', 'system']" % source)
        tail = 100
        raw_tail = query.get("tail", [None])[0]
        if raw_tail is not None:
            try:
                tail = int(raw_tail)
                if not 0 <= tail <= 5000:
                    errors.append("tail: %d is not within [0, 5000]" % tail)
            except ValueError:
                errors.append("tail: %r is not of type 'integer'" % raw_tail)
        if errors:
            self.record_violation("getPodLogs", errors)
            return problem(400, "Bad Request", "Request validation failed.", errors)
        with self.lock:
            inst = self.live(iid)
            if inst is None:
                return problem(404, "Not Found", "pod %s not found" % iid)
            raw = inst.log_raw
        if raw is not None:
            body = raw
        else:
            events = []
            if source in (None, "system"):
                events.append(("system", "[mock] pod %s scheduled" % iid))
            if source in (None, "container"):
                events += [("container", l) for l in self.container_log(inst, tail)]
            events = events[-tail:] if tail > 0 else []
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = "".join("id: %s/%012d\ndata: %s\n\n" % (
                ts, n + 1, json.dumps({"ts": ts, "source": src, "line": line}))
                for n, (src, line) in enumerate(events))
        reply = Reply(200, body, {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                      content_type="text/event-stream")
        reply.stream_seconds = 30
        return reply

    def list_pods(self):
        with self.lock:
            return Reply(200, {"pods": [self.render(i) for i in self.instances.values()
                                        if i.terminated_at is None]})

    def delete(self, iid):
        with self.lock:
            inst = self.live(iid)
            if inst is None:
                return problem(404, "Not Found", "pod %s not found" % iid)
            self.terminate_instance(inst)
        return Reply(204)


if __name__ == "__main__":
    mock_base.serve(RunpodMock)
