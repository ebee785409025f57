"""The command line in the test process, and the books' git HEAD."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """``isu-ledger args...`` in this process (click's runner), as
    (exit code, standard output, standard error); a bug raises."""
    from app.cli import cli as command

    result = CliRunner().invoke(command, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def cli(ledger: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """``isu-ledger --ledger LEDGER args...`` in this process, as
    (exit code, standard output, standard error)."""
    return run("--ledger", str(ledger), *args, stdin=stdin)


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
