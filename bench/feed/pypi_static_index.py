"""Writes a static PEP 503 index of the test distributions and serves it on 127.0.0.1.

Usage: python3 bench/feed/pypi_static_index.py PORT
Serves tests/Tollgate.Server.Tests/testdata/pypi/dists as http://127.0.0.1:PORT/simple/{project}/ (HTML with
sha256 fragments and data-requires-python) and the files under /packages/. The upload times are unknown to a
static PEP 503 index, so the feed applies no minimum release age to these files (it has nothing to compare).
"""
import hashlib, html, http.server, os, re, shutil, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
dists = os.path.join(here, "..", "..", "tests", "Tollgate.Server.Tests", "testdata", "pypi", "dists")
root = tempfile.mkdtemp(prefix="tollgate-pypi-index-")
os.makedirs(os.path.join(root, "packages"))
projects = {}
for name in sorted(os.listdir(dists)):
    shutil.copy(os.path.join(dists, name), os.path.join(root, "packages", name))
    project = re.sub(r"[-_.]+", "-", name.split("-")[0]).lower()
    projects.setdefault(project, []).append(name)
for project, files in projects.items():
    os.makedirs(os.path.join(root, "simple", project))
    with open(os.path.join(root, "simple", project, "index.html"), "w") as page:
        page.write(f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>\n")
        for f in files:
            digest = hashlib.sha256(open(os.path.join(root, "packages", f), "rb").read()).hexdigest()
            page.write(f'<a href="../../packages/{f}#sha256={digest}" data-requires-python="{html.escape(">=3.8")}">{f}</a><br/>\n')
        page.write("</body></html>\n")
os.chdir(root)
print(f"serving {root} on http://127.0.0.1:{sys.argv[1]}/simple/", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
