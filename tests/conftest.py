"""Shared fixtures: a fresh ledger per test, git with a fixed identity.

Keep this small and generic; feature-specific fixtures belong in the test
module that needs them.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import common.cli
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VENV_BIN = REPO / ".venv" / "bin"


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch):
    """Git commands of tests work without any global git configuration."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "isu-test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "isu-test@isu-ledger.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "isu-test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "isu-test@isu-ledger.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def ledger_dir(tmp_path) -> Path:
    """A new ledger (isu-ledger init) with an opening balance of
    612408.15 CHF as of 2025-12-31, in tmp_path/books."""
    from ledger.books import init_ledger

    return init_ledger(
        tmp_path / "books",
        opening_balance="612408.15",
        as_of="2025-12-31",
        user="test:init",
    ).ledger_dir


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run only with ISU_FULL=1 (``make bench``);
    ``make test`` and CI run the short profile."""
    import os

    if os.environ.get("ISU_FULL") == "1":
        return
    skip = pytest.mark.skip(reason="slow: runs with ISU_FULL=1 (make bench)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# --- golden files -----------------------------------------------------------
# ``assert_golden(name, data)`` compares ``data`` (JSON-ready) with
# ``tests/golden/<name>.json``. To (re)write the goldens after a reviewed
# change, run the tests with ``ISU_UPDATE_GOLDENS=1`` and review
# ``git diff tests/golden`` before committing. A missing golden fails the test
# (it is never created silently), so CI cannot pass on goldens nobody looked
# at. Paths are never part of a golden.

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def _assert_golden(name: str, data) -> None:
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


@pytest.fixture(name="assert_golden")
def assert_golden_fixture():
    """Compare JSON-ready data with its golden file (see above)."""
    return _assert_golden


# --- the command line and git -------------------------------------------------


@pytest.fixture(name="cli")
def cli_fixture():
    """``cli(ledger, *args, stdin="")``: ``isu-ledger --ledger LEDGER args...`` in
    this process, as (exit code, standard output, standard error)."""
    return common.cli.cli


@pytest.fixture(name="head")
def head_fixture():
    """``head(ledger)``: the commit the books' git HEAD points at."""
    return common.cli.head


DEMO_TODAY = datetime.date(2026, 11, 28)  # the demo's story pinned: 2025 audited, 2026 preliminary


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory) -> Path:
    """The demo books, built once per test session (per worker) with the story
    pinned to ``DEMO_TODAY``; tests read them and must not write to them."""
    from app.demo.build import build_demo

    mp = pytest.MonkeyPatch()
    mp.setenv("GIT_AUTHOR_NAME", "isu-test")
    mp.setenv("GIT_AUTHOR_EMAIL", "isu-test@isu-ledger.invalid")
    mp.setenv("GIT_COMMITTER_NAME", "isu-test")
    mp.setenv("GIT_COMMITTER_EMAIL", "isu-test@isu-ledger.invalid")
    try:
        path = tmp_path_factory.mktemp("demo-ledger") / "books"
        build_demo(path, today=DEMO_TODAY, say=lambda _line: None)
        return path
    finally:
        mp.undo()
