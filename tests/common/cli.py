"""The command line in the test process, and the books' git HEAD."""

from __future__ import annotations

import io
import sys
from pathlib import Path


def cli(ledger: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """``isu-ledger --ledger LEDGER args...`` in this process, as
    (exit code, standard output, standard error)."""
    from app.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        code = main(["--ledger", str(ledger), *args], stdout=out, stderr=err)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def head(ledger: Path) -> str | None:
    """The commit the books' git HEAD points at."""
    from ledger.store import gitrepo

    return gitrepo.head(ledger)


def import_ok(ledger: Path, path: Path) -> None:
    """Import a statement; every receipt in it must be identified."""
    code, _, err = cli(ledger, "import", str(path))
    assert code == 0, err
    code, out, err = cli(ledger, "review", "list", "--json")
    assert out.strip() == "[]", f"receipts need review: {out}"
