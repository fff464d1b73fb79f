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
    if op == "osv":
        try:
            return {"ok": True, "r": osv_affected(c)}
        except InvalidVersion as e:
            return {"ok": False, "error": str(e)}
    return {"ok": False, "error": "unknown op " + op}


def osv_affected(c):
    """The OSV schema's evaluation algorithm, written from its pseudocode: `versions` by PEP 440
    equality, then each range's events sorted by version with a stable sort (equal versions keep
    their order in the record; "0" first, a limit containing "*" last), applied in order, below a limit."""
    v = Version(c["v"])
    if any(x == c["v"] or Version(x) == v for x in c.get("versions", [])):
        return True

    def value(e):
        for k in ("introduced", "fixed", "last_affected", "limit"):
            if k in e:
                return e[k]

    def key(e):
        if e.get("introduced") == "0":
            return (-1, None)
        if "*" in e.get("limit", ""):
            return (1, None)
        return (0, Version(value(e)))

    def cmp_to_v(e):
        rank, ver = key(e)
        if rank != 0:
            return -rank
        return (v > ver) - (v < ver)

    for rng in c["ranges"]:
        limits = [e for e in rng["events"] if "limit" in e]
        if limits and not any(cmp_to_v(e) < 0 for e in limits):
            continue
        events = sorted(rng["events"], key=lambda e: (key(e)[0], key(e)[1] or Version("0")))
        vulnerable = False
        for e in events:
            if "introduced" in e and cmp_to_v(e) >= 0:
                vulnerable = True
            elif "fixed" in e and cmp_to_v(e) >= 0:
                vulnerable = False
            elif "last_affected" in e and cmp_to_v(e) > 0:
                vulnerable = False
        if vulnerable:
            return True
    return False


out = []
for line in sys.stdin:
    if line.strip():
        out.append(json.dumps(answer(json.loads(line))))
sys.stdout.write("\n".join(out) + "\n")
