"""The scale bench's short profile (bench/scale_bench.py --quick), as CI runs it.

No timing assertions: the bench itself refuses to print a table when a cold
start did not come from the persistent cache or an import never became
visible in the report API; here we check that it ran, printed every row for
both ledgers and that the import changed the reported total.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_output(tmp_path_factory) -> str:
    import importlib.util

    if importlib.util.find_spec("ledger.plugins.isu_rules") is None:
        pytest.skip("the ISU plugins are not built yet")
    keep = tmp_path_factory.mktemp("scale")
    done = subprocess.run([sys.executable, "bench/scale_bench.py", "--quick", "--keep", str(keep)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_bench_prints_one_table_with_every_row(bench_output):
    sys.path.insert(0, str(REPO / "bench"))
    import scale_bench

    lines = bench_output.splitlines()
    assert lines[0].startswith("scale bench (quick profile")
    assert lines[1].split(" | ")[0].strip() == "metric"
    body = lines[3 : 3 + len(scale_bench.ROWS)]
    for (metric, _unit, target), line in zip(scale_bench.ROWS, body):
        cells = [c.strip() for c in line.split(" | ")]
        assert cells[0].startswith(metric)
        assert all(re.fullmatch(r"[\d,]+\.\d\d", c) for c in cells[1:3]), line
        assert (cells[6] in ("pass", "FAIL")) == (target is not None), line
    assert lines[-1] in ("all targets met", "some targets missed")


def test_the_import_became_visible_with_a_new_total(bench_output):
    notes = [line for line in bench_output.splitlines() if "total_received" in line]
    assert len(notes) == 2
    for note in notes:
        before, after = note.rsplit(" ", 3)[-3], note.rsplit(" ", 1)[-1]
        assert before != after
