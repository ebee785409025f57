"""bench/parse_files.py on a small folder: every file timed, read or refused
as the parser says, the figures printed as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "year2025"


def test_every_file_is_timed_and_classified(tmp_path):
    good = sorted(SAMPLES.glob("*.camt053.xml"))[:1] if SAMPLES.is_dir() else []
    (tmp_path / "broken.xml").write_text("<Document><unclosed>")
    for path in good:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    done = subprocess.run([sys.executable, str(REPO / "bench" / "parse_files.py"), str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    outcomes = {row["file"]: row["outcome"] for row in result["files"]}
    assert outcomes.pop("broken.xml") == "refused"
    assert outcomes == {path.name: "read" for path in good}
    assert result["command_seconds"] > 0 and all(row["seconds"] >= 0 for row in result["files"])
