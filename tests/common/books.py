"""Snapshots of the books and the command line in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ledger import conventions
from ledger.store import gitrepo

REPO = Path(__file__).resolve().parents[2]
# Working files that are not part of the books (see the ledger's .gitignore):
# the lock file changes on every write and is never compared.
_NOT_BOOKS = (conventions.LOCK_FILE,)


def git_env() -> dict[str, str]:
    """The environment of a child: a fixed git identity, no system config."""
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="isu-test",
        GIT_AUTHOR_EMAIL="isu-test@isu-ledger.invalid",
        GIT_COMMITTER_NAME="isu-test",
        GIT_COMMITTER_EMAIL="isu-test@isu-ledger.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        ISU_USER="test:faults",
        PYTHONPATH=str(REPO),
    )
    return env


# --- state -------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every file of the books (bytes) and the commit HEAD points at."""

    files: dict[str, bytes]
    head: str | None

    def same_books(self, other: Snapshot) -> bool:
        return self.files == other.files


def snapshot(ledger_dir: Path) -> Snapshot:
    files = {}
    for path in sorted(ledger_dir.rglob("*")):
        rel = path.relative_to(ledger_dir)
        if not path.is_file() or rel.parts[0] == ".git" or path.name in _NOT_BOOKS:
            continue
        if path.name.endswith(".picklecache") or "__pycache__" in rel.parts:
            continue
        files[str(rel)] = path.read_bytes()
    return Snapshot(files=files, head=gitrepo.head(ledger_dir))


def diff(a: Snapshot, b: Snapshot) -> list[str]:
    """The files that differ between two snapshots (for assertion messages)."""
    names = sorted(set(a.files) | set(b.files))
    return [n for n in names if a.files.get(n) != b.files.get(n)]


def bank_refs(ledger_dir: Path) -> list[str]:
    """Every bank_ref of the loaded books, with repeats (a duplicate shows twice)."""
    from beancount.core import data

    from ledger.loader import load_books

    books = load_books(ledger_dir)
    return [
        e.meta[conventions.META_BANK_REF]
        for e in books.entries
        if isinstance(e, data.Transaction) and conventions.META_BANK_REF in (e.meta or {})
    ]


# --- the command line in a child process -----------------------------------------------------------------


def cli_process(ledger_dir: Path, *args: str, timeout: float = 120, preexec=None) -> subprocess.CompletedProcess:
    """The same in a child process (``python -m app.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "--ledger", str(ledger_dir), *args],
        cwd=REPO,
        env=git_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )


def build_base(target: Path, opening: tuple[str, str] = ("431870.40", "2024-12-31")) -> Path:
    """A new ledger (``isu-ledger init``) in ``target``; by default with the
    opening balance of the shared sample statements."""
    proc = cli_process(target, "init", "--opening-balance", opening[0], "--as-of", opening[1])
    if proc.returncode != 0:
        raise RuntimeError(f"init failed: {proc.stderr}")
    return target
