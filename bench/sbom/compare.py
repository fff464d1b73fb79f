#!/usr/bin/env python3
"""Compare the (name, version) component sets of CycloneDX SBOMs with `npm ls --all --json` output.

usage: compare.py NPM_LS_JSON LABEL=SBOM.json [LABEL=SBOM.json ...]
Prints a Markdown table: each set's size, and what it lacks or adds relative to npm ls.
"""
import json
import sys


def cdx_set(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = set()

    def walk(components):
        for c in components or []:
            name = c.get("name", "")
            if c.get("group"):
                name = c["group"] + "/" + name
            if c.get("type") in ("library", "framework", None) and c.get("version") is not None:
                out.add((name, c.get("version")))
            walk(c.get("components"))

    walk(doc.get("components"))
    return out


def npm_ls_set(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = set()

    def walk(deps):
        for name, d in (deps or {}).items():
            if d.get("version"):
                out.add((name, d["version"]))
            walk(d.get("dependencies"))

    walk(doc.get("dependencies"))
    return out


def main():
    ref = npm_ls_set(sys.argv[1])
    sets = {}
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        sets[label] = cdx_set(path)
    print("| set | (name, version) pairs | missing vs npm ls | extra vs npm ls |")
    print("|---|---:|---:|---:|")
    print(f"| npm ls --all | {len(ref)} | — | — |")
    for label, s in sets.items():
        print(f"| {label} | {len(s)} | {len(ref - s)} | {len(s - ref)} |")
    print()
    labels = list(sets)
    for label in labels:
        s = sets[label]
        miss, extra = sorted(ref - s), sorted(s - ref)
        print(f"- {label}: missing {len(miss)} e.g. {miss[:5]}; extra {len(extra)} e.g. {extra[:5]}")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            print(f"- {a} vs {b}: only in {a} {len(sets[a] - sets[b])} e.g. {sorted(sets[a] - sets[b])[:5]}; "
                  f"only in {b} {len(sets[b] - sets[a])} e.g. {sorted(sets[b] - sets[a])[:5]}")


if __name__ == "__main__":
    main()
