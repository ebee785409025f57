"""Golden-file comparison for importer tests.

``assert_golden(name, data)`` compares ``data`` (JSON-ready) with
``tests/golden/<name>.json``. To (re)write the goldens after a reviewed
change, run the tests with ``ISU_UPDATE_GOLDENS=1``::

    ISU_UPDATE_GOLDENS=1 .venv/bin/pytest -q tests/test_parse_real_statements.py

then review the diff (``git diff tests/golden``) before committing. A
missing golden fails the test (it is never created silently), so CI cannot
pass on goldens nobody looked at. Paths are never part of a golden.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, data) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if os.environ.get("ISU_UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden {path} is missing: run with ISU_UPDATE_GOLDENS=1 and review it")
    expected = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(expected), f"output differs from golden {path.name}"
    assert text == expected, f"key order or formatting differs from golden {path.name}"
