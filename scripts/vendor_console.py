#!/usr/bin/env python3
"""Vendor the web console's few libraries from the npm registry, pinned and verified.

    python scripts/vendor_console.py            # the console's libraries
    python scripts/vendor_console.py --tests    # axe-core, for the UI tests only

For each pinned package the registry's metadata gives the tarball URL and its
`dist.integrity` (sha512); the tarball is downloaded, checked against it, and only the
files the console needs are extracted. Bare imports are rewritten to relative ones (the
strict CSP forbids an inline import map) and source-map comments dropped. VERSIONS.json
records name, version, integrity, file and the sha256 of the file as written.
"""

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://registry.npmjs.org"
CONSOLE_VENDOR = ROOT / "edge" / "static" / "console" / "vendor"
TESTS_VENDOR = ROOT / "tests" / "ui" / "vendor"

# (package, version, file in the tarball, file written)
CONSOLE = [
    ("preact", "10.29.8", "package/dist/preact.module.js", "preact.module.js"),
    ("preact", "10.29.8", "package/hooks/dist/hooks.module.js", "hooks.module.js"),
    ("htm", "3.1.1", "package/dist/htm.module.js", "htm.module.js"),
    ("uplot", "1.6.32", "package/dist/uPlot.esm.js", "uPlot.esm.js"),
    ("uplot", "1.6.32", "package/dist/uPlot.min.css", "uPlot.min.css"),
]
TESTS = [
    ("axe-core", "4.11.4", "package/axe.min.js", "axe.min.js"),
]
REWRITES = {'from"preact"': 'from"./preact.module.js"', "from 'preact'": "from './preact.module.js'"}
SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (the npm registry)
        return answer.read()


def metadata(name, version):
    quoted = urllib.parse.quote(name, safe="@")
    return json.loads(fetch(f"{REGISTRY}/{quoted}/{version}"))


def verified_tarball(name, version):
    dist = metadata(name, version)["dist"]
    integrity = dist["integrity"]
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"{name}@{version}: the registry gives {algorithm}, not sha512")
    data = fetch(dist["tarball"])
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{name}@{version}: integrity mismatch ({actual} != {expected})")
    return data, integrity


def extracted(data, member):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.extractfile(member).read().decode()


def cleaned(text):
    for old, new in REWRITES.items():
        text = text.replace(old, new)
    return SOURCE_MAP.sub("\n", text)


def vendor(pins, dest):
    dest.mkdir(parents=True, exist_ok=True)
    tarballs, records = {}, []
    for name, version, member, target in pins:
        if (name, version) not in tarballs:
            tarballs[name, version] = verified_tarball(name, version)
        data, integrity = tarballs[name, version]
        body = cleaned(extracted(data, member)).encode()
        (dest / target).write_bytes(body)
        records.append(
            {
                "name": name,
                "version": version,
                "integrity": integrity,
                "source": member.removeprefix("package/"),
                "file": target,
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        )
        print(f"{name}@{version} {member} -> {dest / target}")
    (dest / "VERSIONS.json").write_text(json.dumps(records, indent=2) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", action="store_true", help="vendor axe-core for the UI tests")
    args = parser.parse_args(argv)
    if args.tests:
        vendor(TESTS, TESTS_VENDOR)
    else:
        vendor(CONSOLE, CONSOLE_VENDOR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
