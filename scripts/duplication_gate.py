"""Duplication gate: pylint's `symilar` over the Python files of the named folders.

Blocks of 6 or more lines that stand again elsewhere (comments, docstrings, imports and
signatures not counted) are duplicates; the gate prints symilar's figure and fails when
the duplicated share of the lines reaches --max-percent, or when any one block of
--max-block lines or more stands twice (a copied function is caught even in a large tree).

    python scripts/duplication_gate.py --max-percent 3 --max-block 20 services edge klaxon
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

TOTAL = re.compile(r"TOTAL lines=(\d+) duplicates=(\d+) percent=([\d.]+)")
BLOCK = re.compile(r"^(\d+) similar lines in (\d+) files", re.MULTILINE)
SKIP_DIRS = {"__pycache__", ".venv", ".tox", "node_modules"}


def python_files(folders: list[str]) -> list[str]:
    files = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
    return files


def symilar_bin() -> str:
    local = Path(sys.executable).parent / "symilar"
    return str(local) if local.exists() else "symilar"


def measure(files: list[str], min_lines: int) -> tuple[str, int, int, float]:
    """symilar's report and its totals: lines, duplicated lines, percent."""
    report = subprocess.run(
        [
            symilar_bin(),
            "-d",
            str(min_lines),
            "--ignore-comments",
            "--ignore-docstrings",
            "--ignore-imports",
            "--ignore-signatures",
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = TOTAL.search(report)
    if not match:
        raise RuntimeError(f"symilar printed no TOTAL line:\n{report[-2000:]}")
    return report, int(match.group(1)), int(match.group(2)), float(match.group(3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--max-percent", type=float, default=3.0)
    parser.add_argument("--max-block", type=int, default=20, help="longest duplicated block allowed, minus 1")
    parser.add_argument("--min-lines", type=int, default=6)
    args = parser.parse_args(argv)
    files = python_files(args.folders)
    report, lines, duplicated, percent = measure(files, args.min_lines)
    longest = max((int(m.group(1)) for m in BLOCK.finditer(report)), default=0)
    ok = percent < args.max_percent and longest < args.max_block
    if not ok:
        print(report)
    print(
        f"duplication: {duplicated} of {lines} lines duplicated ({percent:.2f} %) in {len(files)} files, "
        f"longest duplicated block {longest} lines; gate: under {args.max_percent:g} % and blocks under "
        f"{args.max_block} lines -> {'passed' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
