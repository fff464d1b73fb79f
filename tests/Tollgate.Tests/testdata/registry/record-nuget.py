#!/usr/bin/env python3
"""Records NuGet registration indexes for the fixture registry: python3 record-nuget.py OUTDIR ID...

Reads the service index of the first source `dotnet nuget list source` prints, finds RegistrationsBaseUrl/3.6.0
and saves each package's registration index (pages fetched when only linked) with every URL of that source
rewritten as "{registry}" + path. Then, because the source this machine reaches leaves out `published` and
deprecation, adds `published` (one version a month from 2020-01-01, in registration order) in the documented
ISO 8601 form, and a deprecation on the oldest version (`{"reasons": ["Legacy"], "message": ...}`).
"""
import gzip, json, re, subprocess, sys, urllib.request, datetime

def get(url):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        data = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return json.loads(data)

out, ids = sys.argv[1], sys.argv[2:]
sources = subprocess.check_output(["dotnet", "nuget", "list", "source"], text=True)
index_url = re.search(r"https?://\S+", sources).group(0)
origin = re.match(r"https?://[^/]+/", index_url).group(0)
index = get(index_url)
base = next(r["@id"] for r in index["resources"] if r["@type"] == "RegistrationsBaseUrl/3.6.0")
for pid in ids:
    doc = get(base + pid.lower() + "/index.json")
    for page in doc["items"]:
        if "items" not in page:
            page["items"] = get(page["@id"])["items"]
    n = 0
    for page in doc["items"]:
        for leaf in page["items"]:
            entry = leaf["catalogEntry"]
            entry["published"] = (datetime.datetime(2020, 1, 1) + datetime.timedelta(days=30 * n)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
            if n == 0:
                entry["deprecation"] = {"reasons": ["Legacy"], "message": "Use a newer version."}
            n += 1
    text = json.dumps(doc, separators=(",", ":")).replace(origin, "{registry}")
    open(f"{out}/{pid.lower()}.json", "w").write(text + "\n")
