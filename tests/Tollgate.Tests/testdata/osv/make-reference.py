#!/usr/bin/env python3
"""Writes pypi-reference.json: what Python's own json module reads from pypi-all.zip.

The import tests compare the advisory database against this file, so the reference does not
depend on Tollgate's OSV reader. Usage: python3 make-reference.py PATH/TO/pypi-all.zip
"""
import hashlib
import json
import sys
import zipfile

records = {}
with zipfile.ZipFile(sys.argv[1]) as archive:
    for name in archive.namelist():
        record = json.loads(archive.read(name))
        affected = []
        for a in record.get("affected") or []:
            package = a.get("package") or {}
            if package.get("ecosystem") != "PyPI":
                continue
            versions = a.get("versions") or []
            affected.append({
                "name": package["name"],
                "ranges": [
                    {"type": r["type"], "events": [k + ":" + v for e in r["events"] for k, v in e.items()]}
                    for r in a.get("ranges") or []
                ],
                "versionCount": len(versions),
                "versionsSha256": hashlib.sha256("\n".join(versions).encode()).hexdigest(),
            })
        records[record["id"]] = {
            "modified": record["modified"],
            "withdrawn": "withdrawn" in record,
            "aliases": record.get("aliases") or [],
            "severity": [s["type"] + " " + s["score"] for s in record.get("severity") or []],
            "affected": affected,
        }
with open("pypi-reference.json", "w", encoding="utf-8") as out:
    json.dump(records, out, sort_keys=True, separators=(",", ":"))
    out.write("\n")
print(len(records), "records")
