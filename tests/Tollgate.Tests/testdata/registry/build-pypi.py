#!/usr/bin/env python3
"""Builds the fixture index's distributions: python3 build-pypi.py

No Python package index is reachable from the machine the fixtures were made on, so the project
"tollgate-fixture-greeting" is built here, byte for byte reproducibly (fixed timestamps): wheels (PEP 427: METADATA,
WHEEL, RECORD) and sdists (PKG-INFO, pyproject.toml, the module). pypi/releases.json gives each file's upload time
and yank state, which the fixture server serves as PEP 691 JSON (`upload-time`, `yanked`, sha256 `hashes`).
Releases: 1.0.0 and 1.0.1 (wheel and sdist), 1.1.0 (sdist only: its build backend would run at install time),
2.0.0 (wheel, yanked).
"""
import base64, hashlib, io, json, tarfile, zipfile

NAME, DIST = "tollgate-fixture-greeting", "tollgate_fixture_greeting"
STAMP = (2024, 1, 1, 0, 0, 0)

def metadata(version):
    return f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\nSummary: Tollgate fixture\n"

def wheel(version):
    files = {
        f"{DIST}/__init__.py": f'VERSION = "{version}"\n',
        f"{DIST}-{version}.dist-info/METADATA": metadata(version),
        f"{DIST}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: build-pypi.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(text.encode())}\n"
    files[f"{DIST}-{version}.dist-info/RECORD"] = record + f"{DIST}-{version}.dist-info/RECORD,,\n"
    name = f"pypi/{DIST}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, STAMP)
            info.external_attr = 0o644 << 16
            z.writestr(info, text)
    return name

def sdist(version):
    root = f"{DIST}-{version}"
    files = {
        f"{root}/PKG-INFO": metadata(version),
        f"{root}/pyproject.toml": f'[project]\nname = "{NAME}"\nversion = "{version}"\n[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        f"{root}/{DIST}/__init__.py": f'VERSION = "{version}"\n',
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1704067200, 0o644
            t.addfile(info, io.BytesIO(data))
    import gzip
    name = f"pypi/{root}.tar.gz"
    with open(name, "wb") as f:
        f.write(gzip.compress(buffer.getvalue(), mtime=0))
    return name

releases = []
for version, kinds, uploaded, yanked in [
    ("1.0.0", ["wheel", "sdist"], "2024-01-10T09:00:00Z", False),
    ("1.0.1", ["wheel", "sdist"], "2024-03-05T09:00:00Z", False),
    ("1.1.0", ["sdist"], "2026-05-20T09:00:00Z", False),
    ("2.0.0", ["wheel"], "2024-06-01T09:00:00Z", "broken release"),
]:
    for kind in kinds:
        path = wheel(version) if kind == "wheel" else sdist(version)
        releases.append({"filename": path.split("/")[1], "upload-time": uploaded, "yanked": yanked})
json.dump({"name": NAME, "files": releases}, open("pypi/releases.json", "w"), indent=1)
