"""bench/perf.py end to end in its tiny profile, against this checkout's venv:
every figure is measured (books built, statements imported, servers started)
and the table renders them with a verdict per goal."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PERF = REPO / "bench" / "perf.py"


def _perf_module():
    spec = importlib.util.spec_from_file_location("bench_perf", PERF)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_profile_measures_every_figure(tmp_path):
    venv = Path(sys.prefix)
    done = subprocess.run([sys.executable, str(PERF), "--quick", "--json", "--work", str(tmp_path), "--venv", f"this={venv}"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    (version,) = result["versions"]
    assert version["label"] == "this" and version["venv"] == str(venv.resolve())
    assert version["isu_transactions"] > 200 and version["big_transactions"] > 2000
    assert version["isu_import_booked"] == 8  # the month's statement was booked, not found booked already
    keys = [key for _title, section in result["sections"] for key in section]
    assert set(version["figures"]) == set(keys)
    for key, fig in version["figures"].items():
        assert fig["seconds"] > 0, key
        assert ("goal" in fig) == ("passed" in fig), key
    goals = [f for f in version["figures"].values() if "goal" in f]
    assert len(goals) == 5 + 11 + 4 + 1  # commands (the preview included), warm pages, report API against Fava, import-to-visible

    table = _perf_module().render(result)
    for key in keys:
        assert version["figures"][key]["label"] in table
    assert table.count(" pass") + table.count(" FAIL") == len(goals)


def test_a_venv_without_isu_ledger_is_refused_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(PERF), "--quick", "--venv", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == f"bench/perf.py: {tmp_path}: no bin/isu-ledger in this venv"
    assert done.stdout == ""
