"""Writes a static NuGet V3 source of the test packages and serves it on 127.0.0.1.

Usage: python3 bench/feed/nuget_static_source.py PORT
Serves tests/Tollgate.Server.Tests/testdata/nuget/packages as http://127.0.0.1:PORT/v3/index.json: a service index,
a flat container (/flat/{id}/index.json and the .nupkg files) and registrations (/reg/{id}/index.json, every
version inlined, published 2024-03-01 so no minimum release age applies).
"""
import http.server, json, os, re, shutil, sys, tempfile, zipfile

here = os.path.dirname(os.path.abspath(__file__))
packages = os.path.join(here, "..", "..", "tests", "Tollgate.Server.Tests", "testdata", "nuget", "packages")
port = int(sys.argv[1])
base = f"http://127.0.0.1:{port}/"
root = tempfile.mkdtemp(prefix="tollgate-nuget-source-")
found = {}
for name in sorted(os.listdir(packages)):
    with zipfile.ZipFile(os.path.join(packages, name)) as z:
        nuspec = z.read(next(n for n in z.namelist() if n.endswith(".nuspec") and "/" not in n)).decode()
    pid = re.search(r"<id>(.*?)</id>", nuspec).group(1)
    version = re.search(r"<version>(.*?)</version>", nuspec).group(1)
    found.setdefault(pid, []).append((version, name))
os.makedirs(os.path.join(root, "v3"))
with open(os.path.join(root, "v3", "index.json"), "w") as f:
    json.dump({"version": "3.0.0", "resources": [
        {"@id": base + "flat/", "@type": "PackageBaseAddress/3.0.0"},
        {"@id": base + "reg/", "@type": "RegistrationsBaseUrl/3.6.0"}]}, f)
for pid, versions in found.items():
    lid = pid.lower()
    leaves = []
    for version, name in versions:
        lv = version.lower()
        os.makedirs(os.path.join(root, "flat", lid, lv))
        shutil.copy(os.path.join(packages, name), os.path.join(root, "flat", lid, lv, f"{lid}.{lv}.nupkg"))
        content = f"{base}flat/{lid}/{lv}/{lid}.{lv}.nupkg"
        leaves.append({"@id": f"{base}reg/{lid}/{lv}.json", "packageContent": content,
                       "catalogEntry": {"id": pid, "version": version, "published": "2024-03-01T12:00:00+00:00", "listed": True, "packageContent": content}})
    with open(os.path.join(root, "flat", lid, "index.json"), "w") as f:
        json.dump({"versions": [v.lower() for v, _ in versions]}, f)
    os.makedirs(os.path.join(root, "reg", lid))
    with open(os.path.join(root, "reg", lid, "index.json"), "w") as f:
        json.dump({"count": 1, "items": [{"count": len(leaves), "items": leaves}]}, f)
os.chdir(root)
print(f"serving {root} on {base}v3/index.json", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler).serve_forever()
