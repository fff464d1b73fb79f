#!/usr/bin/env python3
"""Records npm packuments for the fixture registry: python3 record-npm.py OUTDIR NAME...

Reads each full packument from the registry npm is configured with (`npm config get registry`), keeps the fields
Tollgate and npm's resolver read, and writes tarball URLs as "{registry}" + path so the fixture server can serve
them from 127.0.0.1. Nothing is added: fields the registry did not send stay absent.
"""
import json, subprocess, sys, urllib.request

KEEP_VERSION = ["name", "version", "scripts", "dependencies", "optionalDependencies", "peerDependencies",
                "peerDependenciesMeta", "bin", "engines", "os", "cpu", "deprecated", "hasInstallScript", "gypfile",
                "_npmUser", "maintainers", "license"]
INSTALL_SCRIPTS = ["preinstall", "install", "postinstall"]

def main():
    out, names = sys.argv[1], sys.argv[2:]
    registry = subprocess.check_output(["npm", "config", "get", "registry"], text=True).strip().rstrip("/") + "/"
    for name in names:
        with urllib.request.urlopen(registry + name.replace("/", "%2f")) as r:
            doc = json.load(r)
        versions = {}
        for v, m in doc.get("versions", {}).items():
            kept = {k: m[k] for k in KEEP_VERSION if k in m}
            if "scripts" in kept:
                kept["scripts"] = {k: s for k, s in kept["scripts"].items() if k in INSTALL_SCRIPTS}
            dist = m.get("dist", {})
            kept["dist"] = {k: dist[k] for k in ("integrity", "shasum", "tarball", "attestations") if k in dist}
            if kept["dist"].get("tarball", "").startswith(registry):
                kept["dist"]["tarball"] = "{registry}" + kept["dist"]["tarball"][len(registry):]
            versions[v] = kept
        result = {k: doc[k] for k in ("name", "dist-tags", "time", "repository", "maintainers") if k in doc}
        result["versions"] = versions
        with open(f"{out}/{name.replace('/', '__')}.json", "w") as f:
            json.dump(result, f, indent=None, separators=(",", ":"), sort_keys=False)
            f.write("\n")

main()
