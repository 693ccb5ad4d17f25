#!/usr/bin/env python3
"""RunPod REST v2 mock (wire format of api-reference-v2/openapi.json).

Point berth's base_url at http://127.0.0.1:PORT (paths /v2/...).
Reproduced: Bearer auth; RFC 9457 problem+json errors {"title", "status",
"detail", "errors"?}; the GPU catalog needs include=AVAILABILITY together with
product (400 otherwise); prices are USD per hour for ONE GPU; memory in GB;
availability NONE|LOW|MEDIUM|HIGH per data center; create validates the body
(422 with `errors`) and fails for capacity with a 400 whose only signal is the
`detail` text; 402 for balance; pods go PROVISIONING -> STARTING -> RUNNING;
`ssh.direct` and `runtime` are null until RUNNING; DELETE answers 204 with no
body; 404 for unknown pods; RateLimit/RateLimit-Policy headers on every
answer (429 fault bodies should carry Retry-After, as the real API does).

Pods are containers. This mock does not run them: a launched pod is a record
of the create request (image, env, ports, args) plus the next --ssh-host
endpoint, reported as ssh.direct and as runtime.ports[private=22]. Every other
requested port "N/tcp" is reported as public port N on the same host. Tests
that need the container to exist pass --on-launch-cmd (the JSON on stdin
carries the full create request, including env and PUBLIC_KEY) to start it,
e.g. with podman on the SSH host, and --on-terminate-cmd to remove it.

A pod whose container exited reads EXITED when --container-status-cmd
says so (the launch hook's containers are real; see mock_base).

Fault ops: offers, launch, get, list, terminate.
Statuses for /_mock/instances/<id>/state: PROVISIONING, STARTING, RUNNING,
EXITED, ERROR, TERMINATED.
"""

import random
import re
import string

import mock_base
from mock_base import Reply

CAPACITY_DETAIL = ("There are no longer any instances available with the requested "
                   "specifications. Please refresh and try again.")


def problem(status, title, detail, errors=None):
    body = {"title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Reply(status, body, content_type="application/problem+json")


def gpu(gid, name, pool, maker, mem, sprice, cprice, smax, cmax, avail, dcs):
    return {"id": gid, "name": name, "pool": pool, "manufacturer": maker, "memory": mem,
            "secure": sprice is not None, "community": cprice is not None,
            "price": {"secure": sprice, "community": cprice},
            "maxCount": {"secure": smax, "community": cmax},
            "availability": avail,
            "dataCenters": [{"id": d, "name": d, "availability": a} for d, a in dcs],
            "cudaVersions": [{"version": "12.4", "available": True},
                             {"version": "12.8", "available": True}]}


class RunpodMock(mock_base.MockApi):
    """RunPod REST v2 mock."""

    provider = "runpod"

    def default_catalog(self):
        return {"gpus": [
            gpu("NVIDIA GeForce RTX 4090", "RTX 4090", "ADA_24", "NVIDIA", 24, 0.69, 0.34, 8, 4,
                "HIGH", [("US-KS-2", "HIGH"), ("EU-RO-1", "LOW")]),
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
        if method == "GET" and p == "/v2/pods":
            return "list", self.list_pods
        m = re.fullmatch(r"/v2/pods/([^/]+)", p)
        if m and method == "GET":
            return "get", lambda: self.get(m.group(1))
        if m and method == "DELETE":
            return "terminate", lambda: self.delete(m.group(1))
        return None

    def catalog_answer(self, query):
        include = query.get("include", [""])[0]
        if "AVAILABILITY" in include.split(",") and not query.get("product"):
            return problem(400, "Bad Request", "include=AVAILABILITY requires product")
        data = self.catalog
        if "AVAILABILITY" not in include.split(",") and isinstance(data, dict):
            data = {"gpus": [{k: v for k, v in g.items()
                              if k not in ("availability", "dataCenters")}
                             for g in data.get("gpus", [])]}
        return Reply(200, data)

    def find_gpu(self, gid):
        for g in (self.catalog or {}).get("gpus", []):
            if g.get("id") == gid:
                return g
        return None

    def create(self, body):
        if not isinstance(body, dict):
            return problem(422, "Unprocessable Entity", "body must be an object",
                           ["body: expected object"])
        errors = []
        if not isinstance(body.get("name"), str) or not body.get("name"):
            errors.append("name: required")
        if not isinstance(body.get("image"), str) or not body.get("image"):
            errors.append("image: required unless templateId is set")
        g = body.get("gpu")
        if not isinstance(g, dict) or not isinstance(g.get("id"), str) \
                or not isinstance(g.get("count"), int):
            errors.append("gpu: {id: string, count: integer} required")
        if "ports" in body and not (isinstance(body["ports"], list) and all(
                isinstance(x, str) and re.fullmatch(r"\d+/(tcp|http|udp)", x)
                for x in body["ports"])):
            errors.append("ports: items must look like \"8000/http\" or \"22/tcp\"")
        if "env" in body and not (isinstance(body["env"], dict) and all(
                isinstance(v, str) for v in body["env"].values())):
            errors.append("env: must be an object of strings")
        if body.get("cloud", "SECURE") not in ("SECURE", "COMMUNITY"):
            errors.append("cloud: must be SECURE or COMMUNITY")
        if errors:
            return problem(422, "Unprocessable Entity", "request body violates the contract",
                           errors)
        spec = self.find_gpu(g["id"])
        if spec is None:
            return problem(400, "Bad Request", "unknown GPU type %r" % g["id"])
        cloud = body.get("cloud", "SECURE").lower()
        max_count = (spec.get("maxCount") or {}).get(cloud) or 0
        if g["count"] < 1 or g["count"] > int(max_count):
            return problem(400, "Bad Request", "gpu count %d exceeds the maximum of %s for %s cloud"
                           % (g["count"], max_count, cloud))
        dcs = body.get("dataCenterIds") or [d["id"] for d in spec.get("dataCenters", [])]
        usable = [d["id"] for d in spec.get("dataCenters", [])
                  if d["id"] in dcs and d.get("availability") not in (None, "NONE")]
        if not usable:
            return problem(400, "Bad Request", CAPACITY_DETAIL)
        price = float((spec.get("price") or {}).get(cloud) or 0) * g["count"]
        iid = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(14))
        inst = self.add_instance(iid, body["name"], body,
                                 {"dc": usable[0], "cost": round(price, 4), "cloud": cloud})
        return Reply(201, self.render(inst))

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
               "image": req.get("image"), "args": req.get("args"), "disk": req.get("disk", 50),
               "mounts": [], "ports": ports, "env": req.get("env") or {},
               "registry": None, "cloud": inst.extra["cloud"].upper(),
               "dataCenterId": inst.extra["dc"], "cudaVersion": "12.8",
               "ssh": {"proxy": {"host": "ssh.runpod.io", "port": 22,
                                 "username": "%s-64411eb2" % inst.id,
                                 "command": "ssh %s-64411eb2@ssh.runpod.io" % inst.id},
                       "direct": None},
               "template": None,
               "cost": inst.extra["cost"] if status == "RUNNING" else 0,
               "locked": False, "runtime": None,
               "createdAt": "2026-11-30T00:00:00Z", "startedAt": None,
               "globalNetworking": False, "gpu": req.get("gpu")}
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
            pod["startedAt"] = "2026-11-30T00:00:01Z"
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
