"""Secret scan with detect-secrets: the working tree (tests included) and the git history.

Every finding must be allow-listed *by fingerprint* in `.secrets.baseline`: an entry with
the same file, the same `hashed_secret` and `is_secret: false` (audited). A finding that is
not, or an entry nobody has audited, fails the scan. Nothing is left out by folder; only
vendored third-party bundles (minified code the entropy plugins trip over, not ours to fix)
are left out by path, see VENDORED.

    python scripts/secret_scan.py                 # the tree: tracked and untracked, not ignored
    python scripts/secret_scan.py --history       # every line any commit added, on every ref
    python scripts/secret_scan.py FILE...         # just these files (the pre-commit hook)
    python scripts/secret_scan.py --update-baseline   # rewrite the baseline (then audit it)

A secret found only in the history (committed, then deleted) can be allow-listed the same
way, under the path it had. Exit status: 0 clean, 1 findings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Third-party minified bundles, copied verbatim from their upstream releases.
VENDORED = re.compile(r"^edge/static/docs/redoc\.standalone\.js$|^edge/static/console/vendor/")
BASELINE = ".secrets.baseline"
# Findings only the history holds (the line is gone from the tree), audited the same way.
HISTORY_ALLOWLIST = ".secrets.history.json"
# The allow-lists hold fingerprints (hashes) only, which the entropy plugins would flag.
ALLOW_LISTS = {BASELINE, HISTORY_ALLOWLIST}
SKIP_DIRS = {".git", ".venv", ".tox", "node_modules", "__pycache__", "var", "build", "dist"}


def detect_secrets_bin() -> str:
    """The detect-secrets next to this interpreter (a tox env or the venv), else PATH's."""
    local = Path(sys.executable).parent / "detect-secrets"
    return str(local) if local.exists() else "detect-secrets"


def _walk(root: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        files += [os.path.relpath(os.path.join(dirpath, f), root) for f in filenames]
    return files


def tree_files(root: Path) -> list[str]:
    """Files git tracks plus untracked ones it does not ignore; every file when not a checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        files = [f for f in out.split("\0") if f and (root / f).is_file()]
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = _walk(root)
    return sorted(f for f in files if not VENDORED.search(f) and f not in ALLOW_LISTS)


def scan(files: list[str], cwd: Path) -> dict[str, list[dict]]:
    """detect-secrets' results for these files (paths relative to cwd)."""
    results: dict[str, list[dict]] = {}
    for start in range(0, len(files), 500):
        out = subprocess.run(
            [detect_secrets_bin(), "scan", *files[start : start + 500]],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.update(json.loads(out)["results"])
    return results


def load_allowed(root: Path) -> tuple[set[tuple[str, str]], list[str]]:
    """(file, hashed_secret) pairs audited as not secret, and the entries nobody audited."""
    allowed, unaudited = set(), []
    path = root / BASELINE
    results = json.loads(path.read_text())["results"] if path.exists() else {}
    history = root / HISTORY_ALLOWLIST
    for entry in json.loads(history.read_text()) if history.exists() else []:
        results.setdefault(entry["filename"], []).append(entry)
    for filename, entries in results.items():
        for entry in entries:
            if entry.get("is_secret") is False:
                allowed.add((filename, entry["hashed_secret"]))
            else:
                where = entry.get("line_number", entry.get("commit"))
                unaudited.append(f"{filename}:{where} ({entry['type']})")
    return allowed, unaudited


def unexpected(results: dict[str, list[dict]], allowed: set[tuple[str, str]], where=None) -> list[str]:
    """Findings whose fingerprint is not allow-listed for their file."""
    bad = []
    for filename, hits in sorted(results.items()):
        for hit in hits:
            if (filename, hit["hashed_secret"]) not in allowed:
                place = where(filename, hit["line_number"]) if where else f"{filename}:{hit['line_number']}"
                bad.append(f"{place} ({hit['type']}, hashed_secret {hit['hashed_secret']})")
    return bad


def history_lines(root: Path) -> dict[str, dict[str, str]]:
    """{path: {added line: first commit that added it}} over every commit on every ref."""
    log = subprocess.run(  # not a checkout: CalledProcessError, the scan fails
        ["git", "log", "--all", "--reverse", "-p", "--no-color", "--no-renames", "-U0", "--format=commit %H"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    added: dict[str, dict[str, str]] = {}
    commit = path = None
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line[7:]
        elif line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("+") and path and not VENDORED.search(path) and path not in ALLOW_LISTS:
            added.setdefault(path, {}).setdefault(line[1:], commit)
    return added


def scan_history(root: Path, allowed: set[tuple[str, str]]) -> list[str]:
    """Write each path's added lines to a scratch tree under the same path, scan it."""
    added = history_lines(root)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        lines_of: dict[str, list[str]] = {}
        for path, lines in added.items():
            target = scratch / path
            target.parent.mkdir(parents=True, exist_ok=True)
            lines_of[path] = list(lines)
            target.write_text("\n".join(lines_of[path]) + "\n")
        results = scan(sorted(added), scratch)

    def where(filename: str, number: int) -> str:
        line = lines_of[filename][number - 1]
        return f"{filename} (added in commit {added[filename][line][:12]}: {line.strip()[:60]!r})"

    print(f"secret-scan: history: {sum(map(len, added.values()))} distinct added lines in {len(added)} paths")
    return unexpected(results, allowed, where)


def update_baseline(root: Path) -> int:
    """Rewrite the baseline from the tree, keeping the audit of entries that stay."""
    old = root / BASELINE
    audited = json.loads(old.read_text())["results"] if old.exists() else {}
    verdicts = {(f, e["hashed_secret"]): e.get("is_secret") for f, es in audited.items() for e in es}
    out = subprocess.run(
        [detect_secrets_bin(), "scan", *tree_files(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    baseline = json.loads(out)
    baseline.pop("generated_at", None)
    for filename, entries in baseline["results"].items():
        for entry in entries:
            verdict = verdicts.get((filename, entry["hashed_secret"]))
            if verdict is not None:
                entry["is_secret"] = verdict
    old.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
    print(f"secret-scan: wrote {BASELINE}; audit new entries: detect-secrets audit {BASELINE}")
    return 0


def check(root: Path, files: list[str], history: bool) -> tuple[list[str], str]:
    """(findings not allow-listed, what was scanned)."""
    allowed, _ = load_allowed(root)
    if history:
        return scan_history(root, allowed), "git history"
    files = [f for f in files if not VENDORED.search(f)] if files else tree_files(root)
    return unexpected(scan(files, root), allowed), f"{len(files)} files"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="scan only these files (the pre-commit hook)")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--history", action="store_true", help="scan every line the git history added")
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.update_baseline:
        return update_baseline(root)
    try:
        bad, what = check(root, args.files, args.history)
    except subprocess.CalledProcessError as exc:
        print(f"secret-scan: {' '.join(map(str, exc.cmd[:3]))} failed in {root}: {(exc.stderr or b'')!r}")
        return 1
    unaudited = load_allowed(root)[1]
    for entry in unaudited:
        print(f"unaudited baseline entry: {entry} (mark it with `detect-secrets audit {BASELINE}`)")
    for finding in bad:
        print(f"possible secret: {finding}")
    print(f"secret-scan: {what}: {len(bad)} finding(s) not allow-listed, {len(unaudited)} unaudited")
    return 1 if bad or unaudited else 0


if __name__ == "__main__":
    sys.exit(main())
