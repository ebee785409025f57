"""Parse time of bank files: every file under a folder (default the peer
statements in ../shared/peer-statements/), parsed in this one process, and
one ``isu-ledger parse`` process for the start-up a user also waits for.

    python bench/parse_files.py [FOLDER] [--json]

Prints, per file, read/refused and the seconds of ``parse_file`` (best of 3),
then the total, the slowest file and the command's wall time. Figures only:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from importers.model import BadFile
from importers.parse import parse_file

REPO = Path(__file__).resolve().parents[1]

DEFAULT = REPO.parent / "shared" / "peer-statements"
RUNS = 3


def time_file(path: Path) -> tuple[str, float]:
    """('read' or 'refused', best seconds of RUNS parses)."""
    best, outcome = float("inf"), "read"
    for _ in range(RUNS):
        started = time.perf_counter()
        try:
            parse_file(path)
        except BadFile:
            outcome = "refused"
        best = min(best, time.perf_counter() - started)
    return outcome, best


def command_seconds(path: Path) -> float:
    """Wall time of ``isu-ledger parse --json FILE`` (start-up included)."""
    exe = Path(sys.executable).with_name("isu-ledger")
    started = time.perf_counter()
    subprocess.run([str(exe), "parse", "--json", str(path)], capture_output=True, check=False)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix.lower() != ".md")
    if not files:
        print(f"{args.folder}: no bank files", file=sys.stderr)
        return 2
    rows = [(str(p.relative_to(args.folder)), *time_file(p)) for p in files]
    total = sum(seconds for _, _, seconds in rows)
    slowest = max(rows, key=lambda row: row[2])
    command = command_seconds(files[0])
    if args.json:
        print(json.dumps({"files": [{"file": f, "outcome": o, "seconds": round(s, 4)} for f, o, s in rows],
                          "total_seconds": round(total, 3), "slowest": slowest[0],
                          "slowest_seconds": round(slowest[2], 4), "command_seconds": round(command, 3)}, indent=2))
        return 0
    for name, outcome, seconds in rows:
        print(f"{seconds * 1000:9.1f} ms  {outcome:8}  {name}")
    read = sum(1 for _, outcome, _ in rows if outcome == "read")
    print(f"{len(rows)} files ({read} read, {len(rows) - read} refused): {total:.3f} s of parse time in all, "
          f"slowest {slowest[2] * 1000:.1f} ms ({slowest[0]}); "
          f"one 'isu-ledger parse' process, start-up included: {command:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
