"""Writes packuments for the crafted tarballs in tarballs/ (shape copied from the recorded real ones)."""
import base64, hashlib, json, os

def packument(name, versions, file_prefix):
    doc = {"_id": name, "name": name, "dist-tags": {"latest": versions[-1]}, "versions": {},
           "time": {"created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-02T00:00:00.000Z"}}
    for i, v in enumerate(versions):
        data = open(f"tarballs/{file_prefix}-{v}.tgz", "rb").read()
        base = name.split("/")[-1]
        doc["versions"][v] = {
            "name": name, "version": v, "description": "Tollgate test fixture", "main": "index.js", "license": "MIT",
            "_id": f"{name}@{v}",
            "dist": {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
                     "shasum": hashlib.sha1(data).hexdigest(),
                     "tarball": f"http://upstream.invalid/{name}/-/{base}-{v}.tgz"}}
        doc["time"][v] = f"2020-01-0{i + 1}T00:00:00.000Z"
    return doc

for name, versions, prefix, out in [
    ("tollgate-fixture-evil", ["1.0.0", "1.0.1"], "tollgate-fixture-evil", "tollgate-fixture-evil"),
    ("@acme/secret", ["1.0.0"], "acme-secret", "acme__secret"),
]:
    with open(f"packuments/{out}.json", "w") as f:
        json.dump(packument(name, versions, prefix), f, indent=1)
