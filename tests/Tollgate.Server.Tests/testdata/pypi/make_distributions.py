"""Writes the fixture distributions in dists/ (run from this folder: python3 make_distributions.py).

Wheels are written directly as zip files per the binary distribution format (PEP 427/491): a package,
a .dist-info folder with METADATA, WHEEL and RECORD (sha256, urlsafe base64 without padding). The sdist
is a tar.gz per the source distribution format with PKG-INFO and a setup.py. Timestamps are fixed, so
running the script again gives the same bytes.
"""
import base64, hashlib, io, os, tarfile, zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)


def metadata(name, version, summary):
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
            "Requires-Python: >=3.8\n").encode()


def wheel(name, version, summary, body):
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": body.encode(),
        f"{info}/METADATA": metadata(name, version, summary),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tollgate-fixture\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\n"
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = os.path.join("dists", f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, data in files.items():
            entry = zipfile.ZipInfo(p, EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)


def sdist(name, version, setup_py):
    dist = name.replace("-", "_")
    root = f"{dist}-{version}"
    files = {
        f"{root}/PKG-INFO": metadata(name, version, "sdist-only fixture"),
        f"{root}/setup.py": setup_py.encode(),
        f"{root}/{dist}.py": b"VALUE = 'built from source'\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for p, data in files.items():
            info = tarfile.TarInfo(p)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            t.addfile(info, io.BytesIO(data))
    import gzip
    with open(os.path.join("dists", f"{root}.tar.gz"), "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
            gz.write(buffer.getvalue())


os.makedirs("dists", exist_ok=True)
wheel("tollgate-fixture-ok", "1.0.0", "allowed fixture", "VERSION = '1.0.0'\n")
wheel("tollgate-fixture-ok", "1.1.0", "allowed fixture, made young by the tests", "VERSION = '1.1.0'\n")
wheel("tollgate-fixture-evil", "1.0.0", "fixture, clean version", "VERSION = '1.0.0'\n")
wheel("tollgate-fixture-evil", "1.0.1", "fixture, malicious by MAL-2099-0101", "VERSION = '1.0.1'\n")
wheel("acme-secret", "1.0.0", "private fixture, uploaded by the tests", "VERSION = '1.0.0'\n")
sdist("tollgate-fixture-sdist", "1.0.0", """import os
from setuptools import setup

# Runs whenever pip builds or inspects this sdist: the code a feed must not let through unreviewed.
marker = os.environ.get("TOLLGATE_FIXTURE_MARKER")
if marker:
    with open(marker, "w") as f:
        f.write("setup.py ran\\n")

setup(name="tollgate-fixture-sdist", version="1.0.0", py_modules=["tollgate_fixture_sdist"])
""")
