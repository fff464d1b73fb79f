"""Reference oracle for the PEP 440 differential tests.

Uses `packaging` (22 or later): the installed distribution if there is one, else the copy vendored
by pip. Reads one JSON object a line on stdin and writes one JSON answer a line on stdout.
Exits 3 with a message on stderr when no suitable `packaging` is importable.
"""
import json
import sys


def load_packaging():
    candidates = []
    try:
        import packaging.version as v1
        import packaging.specifiers as s1
        import packaging as p1
        candidates.append((p1.__version__, v1, s1))
    except Exception:
        pass
    try:
        import pip._vendor.packaging.version as v2
        import pip._vendor.packaging.specifiers as s2
        import pip._vendor.packaging as p2
        candidates.append((p2.__version__, v2, s2))
    except Exception:
        pass
    for version, v, s in candidates:
        if int(version.split(".")[0]) >= 22:
            return version, v, s
    found = ", ".join(c[0] for c in candidates) or "none"
    sys.stderr.write(
        "pep440-oracle: needs packaging >= 22 (standalone or vendored by pip); found: %s\n" % found
    )
    sys.exit(3)


PACKAGING, version_mod, spec_mod = load_packaging()
Version = version_mod.Version
InvalidVersion = version_mod.InvalidVersion
SpecifierSet = spec_mod.SpecifierSet


def answer(c):
    op = c["op"]
    if op == "about":
        return {"packaging": PACKAGING, "python": sys.version.split()[0]}
    if op == "parse":
        try:
            v = Version(c["v"])
        except InvalidVersion:
            return {"ok": False}
        return {"ok": True, "norm": str(v), "pre": v.is_prerelease}
    if op == "cmp":
        try:
            a, b = Version(c["a"]), Version(c["b"])
        except InvalidVersion:
            return {"ok": False}
        return {"ok": True, "r": (a > b) - (a < b)}
    if op == "contains":
        try:
            s = SpecifierSet(c["s"])
            v = Version(c["v"])
            return {"ok": True, "r": s.contains(v)}
        except Exception:
            return {"ok": False}
    return {"ok": False, "error": "unknown op " + op}


out = []
for line in sys.stdin:
    if line.strip():
        out.append(json.dumps(answer(json.loads(line))))
sys.stdout.write("\n".join(out) + "\n")
