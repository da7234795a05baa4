#!/usr/bin/env python3
"""Validates Kubernetes manifests offline against the Job schema.

`kubectl apply --dry-run=client` needs an API server for its schema, so this check
uses the models of the official Kubernetes Python client (`pip install kubernetes`),
which are generated from the Kubernetes OpenAPI definitions: every field must be one
the schema defines, with the schema's type, and every required field present.
Then it checks what toolmark needs of the scan Job: an Indexed Job whose
TOOLMARK_SHARD_COUNT equals its completions.

    python3 deploy/kubernetes/check.py deploy/kubernetes/*.yaml
"""
import re
import sys

import yaml
from kubernetes import client

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def check(value, type_name, path, problems):
    """Walks `value` against the OpenAPI type `type_name`, appending problems."""
    if type_name in ("object", "datetime", "date"):
        return
    if type_name in PRIMITIVES:
        wanted = PRIMITIVES[type_name]
        if isinstance(value, bool) and type_name != "bool" or not isinstance(value, wanted):
            problems.append(f"{path}: {value!r} is not {type_name}")
        return
    match = re.fullmatch(r"[lL]ist\[(.+)\]", type_name)
    if match:
        if not isinstance(value, list):
            problems.append(f"{path}: not a list")
            return
        for i, item in enumerate(value):
            check(item, match.group(1), f"{path}[{i}]", problems)
        return
    match = re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", type_name)
    if match:
        if not isinstance(value, dict):
            problems.append(f"{path}: not a map")
            return
        for key, item in value.items():
            check(item, match.group(1) or match.group(2), f"{path}.{key}", problems)
        return
    model = getattr(client, type_name, None)
    if model is None:
        problems.append(f"{path}: unknown schema type {type_name}")
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: not an object ({type_name})")
        return
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json:
            problems.append(f"{path}.{key}: no such field in {type_name}")
            continue
        check(item, model.openapi_types[by_json[key]], f"{path}.{key}", problems)


def validate(document, source):
    problems = []
    if document.get("apiVersion") != "batch/v1" or document.get("kind") != "Job":
        return [f"{source}: not a batch/v1 Job"]
    check(document, "V1Job", source, problems)
    if problems:
        return problems
    # Constructing the models enforces the schema's required fields.
    try:
        client.ApiClient()._ApiClient__deserialize(document, "V1Job")
    except ValueError as error:
        return [f"{source}: {error}"]
    spec = document["spec"]
    if spec.get("completionMode") == "Indexed":
        env = {
            e["name"]: e.get("value")
            for c in spec["template"]["spec"]["containers"]
            for e in c.get("env", [])
        }
        if env.get("TOOLMARK_SHARD_COUNT") != str(spec.get("completions")):
            problems.append(
                f"{source}: TOOLMARK_SHARD_COUNT {env.get('TOOLMARK_SHARD_COUNT')!r} "
                f"is not the Job's completions {spec.get('completions')}"
            )
    return problems


def main(paths):
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, document in enumerate(yaml.safe_load_all(f)):
                if document is not None:
                    problems += validate(document, f"{path}#{n}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(paths)} manifests valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
