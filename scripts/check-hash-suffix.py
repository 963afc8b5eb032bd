#!/usr/bin/env python3
"""With --hash-suffix, compose2k8s names ConfigMaps and Secrets `<name>-<hash>` using
kustomize's content hash. This check rebuilds every such object with kustomize's own
configMapGenerator / secretGenerator (same name, data and options) and asserts that
`kubectl kustomize` computes exactly the name we emitted.

Usage: check-hash-suffix.py DIR   (DIR holds one Kustomize output folder per project)
"""
import base64
import os
import subprocess
import sys
import tempfile

import yaml  # PyYAML, installed with kubernetes-validate


def objects(folder):
    for f in sorted(os.listdir(folder)):
        if f.endswith(".yaml") and f != "kustomization.yaml":
            with open(os.path.join(folder, f)) as fh:
                for doc in yaml.safe_load_all(fh):
                    if doc and doc.get("kind") in ("ConfigMap", "Secret"):
                        yield doc


def kustomize_name(obj):
    name = obj["metadata"]["name"]
    base = name.rsplit("-", 1)[0]
    with tempfile.TemporaryDirectory() as d:
        files = []
        payload = {}
        if obj["kind"] == "ConfigMap":
            for k, v in (obj.get("data") or {}).items():
                payload[k] = v.encode()
            for k, v in (obj.get("binaryData") or {}).items():
                payload[k] = base64.b64decode(v)
        else:
            for k, v in (obj.get("data") or {}).items():
                payload[k] = base64.b64decode(v)
        for i, (k, v) in enumerate(sorted(payload.items())):
            path = os.path.join(d, f"f{i}")
            with open(path, "wb") as fh:
                fh.write(v)
            files.append(f"{k}=f{i}")
        gen = {"name": base, "files": files}
        opts = {}
        if obj.get("immutable"):
            opts["immutable"] = True
        if opts:
            gen["options"] = opts
        k = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
        if obj["kind"] == "ConfigMap":
            k["configMapGenerator"] = [gen]
        else:
            gen["type"] = obj.get("type", "Opaque")
            k["secretGenerator"] = [gen]
        with open(os.path.join(d, "kustomization.yaml"), "w") as fh:
            yaml.safe_dump(k, fh)
        out = subprocess.run(["kubectl", "kustomize", d], check=True, capture_output=True, text=True).stdout
        return yaml.safe_load(out)["metadata"]["name"]


def main():
    root = sys.argv[1]
    checked = 0
    bad = []
    for proj in sorted(os.listdir(root)):
        folder = os.path.join(root, proj)
        if not os.path.isdir(folder):
            continue
        for obj in objects(folder):
            ours = obj["metadata"]["name"]
            theirs = kustomize_name(obj)
            checked += 1
            if ours != theirs:
                bad.append(f"{proj}: {obj['kind']} {ours} but kustomize names it {theirs}")
    print(f"hash-suffix names: {checked - len(bad)} passed, {len(bad)} failed")
    for b in bad:
        print("  " + b)
    sys.exit(1 if bad or checked == 0 else 0)


if __name__ == "__main__":
    main()
