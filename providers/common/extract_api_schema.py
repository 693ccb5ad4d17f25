#!/usr/bin/env python3
"""Transcribes the request schemas the mocks enforce from a vendor's OpenAPI
document into providers/<provider>/api_schema.json.

Run by hand when a vendor document is updated; the output is committed, so
the tests never need the vendor document itself:

  extract_api_schema.py runpod path/to/openapi.json       (runpod/docs api-reference-v2/openapi.json)
  extract_api_schema.py lambda path/to/openapi-1.8.3.json (Lambda's document, as vendored by
                                                alexandervaneck/lambda-ai-cloud-api-client)
  extract_api_schema.py vastai path/to/openapi.yaml       (vast-ai/docs api-reference/openapi.yaml;
                                                needs PyYAML, Debian's python3-yaml)

The document must be byte-for-byte the one named in SOURCES below (its
sha256 is checked): the "$comment" of the output cites that exact commit,
and a newer document means new citations, so SOURCES is edited with it.

Output: {"$comment", "$schema", "operations": {operationId: {"method",
"path", "schema": "#/$defs/<name>"}}, "$defs": {...}}. Named component
schemas keep their names; an operation whose body schema is written inline
(Vast's) is stored under its operationId. Every "#/components/schemas/X"
becomes "#/$defs/X" and everything a body schema refers to is copied along,
verbatim (descriptions and examples included), so one file validates alone.
"""

import hashlib
import json
import os
import sys

SOURCES = {
    "runpod": {
        "repository": "runpod/docs",
        "path": "api-reference-v2/openapi.json",
        "commit": "a900806e253c4f8c16da27d1a4370e72456da4cb",
        "sha256": "b8bce61c5a2290d28a7cb2ed53173637166817249986cb18b101b2fd651fd313",
        "operations": [("POST", "/v2/pods"), ("POST", "/v2/registries"),
                       ("POST", "/v2/network-volumes")],
    },
    "lambda": {
        # Lambda's own document (spec version 1.8.3), vendored by a third-party
        # client because Lambda publishes it only at a live URL.
        "repository": "alexandervaneck/lambda-ai-cloud-api-client",
        "path": "openapi-1.8.3.json",
        "commit": "b7035f7b282ccc2c07c0760fa8332b2d5795e558",
        "sha256": "e848f3e22b533929474c8661561ba271b16eeffbc0d4c2697b6b45b2fc4ceb8f",
        "operations": [("POST", "/api/v1/instance-operations/launch"),
                       ("POST", "/api/v1/instance-operations/terminate"),
                       ("POST", "/api/v1/ssh-keys"),
                       ("POST", "/api/v1/filesystems")],
    },
    "vastai": {
        "repository": "vast-ai/docs",
        "path": "api-reference/openapi.yaml",
        "commit": "c624622622496828c1ae58edec481bba1f5d675d",
        "sha256": "84fdb88342dcca514b87795a16a9751b5e6805341034ec8ca24fbf3519d42b25",
        # The document spells these paths without the trailing slash that
        # its own prose and clients use (/api/v0/asks/{id}/, /api/v0/ssh/).
        "operations": [("PUT", "/api/v0/asks/{id}"), ("POST", "/api/v0/ssh"),
                       ("PUT", "/api/v0/instances/request_logs/{id}")],
    },
}

PREFIX = "#/components/schemas/"


def load(path):
    raw = open(path, "rb").read()
    if path.endswith((".yaml", ".yml")):
        import yaml  # only for Vast's document
        return raw, yaml.safe_load(raw)
    return raw, json.loads(raw)


def rewrite(node, found):
    """A copy of `node` with component refs pointed at $defs; the names of
    the components it refers to are added to `found`."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(PREFIX):
                name = v[len(PREFIX):]
                found.add(name)
                out[k] = "#/$defs/" + name
            else:
                out[k] = rewrite(v, found)
        return out
    if isinstance(node, list):
        return [rewrite(v, found) for v in node]
    return node


def extract(provider, document_path):
    src = SOURCES[provider]
    raw, doc = load(document_path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != src["sha256"]:
        sys.exit("%s is not %s %s @ %s (sha256 %s, expected %s); update SOURCES first"
                 % (document_path, src["repository"], src["path"], src["commit"][:8],
                    digest, src["sha256"]))
    components = (doc.get("components") or {}).get("schemas") or {}
    defs, operations, pending = {}, {}, set()
    for method, path in src["operations"]:
        op = doc["paths"][path][method.lower()]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        ref = schema.get("$ref", "")
        if ref.startswith(PREFIX) and len(schema) == 1:
            name = ref[len(PREFIX):]
            pending.add(name)
        else:
            name = op["operationId"]
            defs[name] = rewrite(schema, pending)
        operations[op["operationId"]] = {"method": method, "path": path,
                                         "schema": "#/$defs/" + name}
    while pending - set(defs):
        name = sorted(pending - set(defs))[0]
        defs[name] = rewrite(components[name], pending)
    return {
        "$comment": ("Request body schemas transcribed verbatim from %s %s @ %s (%s, sha256 %s) "
                     "by providers/common/extract_api_schema.py; component refs point at $defs."
                     % (src["repository"], src["path"], src["commit"], doc.get("openapi"),
                        src["sha256"])),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "operations": operations,
        "$defs": dict(sorted(defs.items())),
    }


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SOURCES:
        sys.exit("usage: extract_api_schema.py {%s} DOCUMENT" % "|".join(sorted(SOURCES)))
    provider, document = sys.argv[1:]
    out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), provider,
                       "api_schema.json")
    result = extract(provider, document)
    with open(out + ".tmp", "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print("wrote %s: %s" % (out, ", ".join(sorted(result["operations"]))))


if __name__ == "__main__":
    main()
