"""The expensive reports of the web app - the pack and every PDF - are built
once per state of the books and kept, and each user builds at most
``REPORT_BUILDS_PER_USER`` of them at a time.

Reports are reproducible by design (fixed PDF and zip dates, sorted
members), so the bytes for a commit of the books, a report, a year, an
as-of date and a format never change: they are kept under
``.git/isu-reports/`` of the books, written atomically, so they survive a
restart and every gunicorn worker finds what another built. A report is
kept only when the tracked files are exactly the commit's; the key also
holds the loaded files' fingerprint. The newest ``KEPT`` files stay.

The limits are flocks on files under that directory, so they hold across
worker processes and vanish with a killed process: requests for a report
being built wait for it, so it is built once; a build takes one of the
user's slots or is refused (429, with Retry-After).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from app.web.views import Refused

CACHE_DIR = "isu-reports"
KEPT = 200  # report files kept (a pack is ~200 KB on the demo books)
RETRY_AFTER = 5  # seconds: about one build


class TooManyBuilds(Refused):
    """The user's build slots are all taken: 429, and when to try again."""

    def __init__(self, limit: int):
        plural = "report is" if limit == 1 else f"{limit} reports are"
        super().__init__(f"too many reports at once: your {plural} still being built; try again in a few seconds", 429)
        self.retry_after = RETRY_AFTER


def expensive(name: str, fmt: str) -> bool:
    """The reports worth keeping and limiting: the pack and every PDF."""
    return name == "pack" or fmt == "pdf"


def cache_key(commit: str, fingerprint: str, *parts) -> str:
    text = json.dumps([commit, fingerprint, *[None if p is None else str(p) for p in parts]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def directory(ledger_dir: Path) -> Path:
    from ledger.store import gitrepo

    path = gitrepo.git_dir(ledger_dir) / CACHE_DIR
    (path / "locks").mkdir(parents=True, exist_ok=True)
    return path


def committed(ledger_dir: Path) -> bool:
    """Are the tracked files exactly those of HEAD? (untracked ones are in the fingerprint)"""
    from ledger.store import gitrepo

    return not gitrepo.run(ledger_dir, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no").strip()


def built(ledger_dir: Path, key: str | None, build: Callable[[], bytes], *, user_id: int, limit: int) -> bytes:
    """The report's bytes: kept ones when there are (``key`` None: never kept),
    else ``build()`` in one of the user's slots, then kept."""
    where = directory(ledger_dir)
    path = where / f"{key}.bin" if key else None
    data = _read(path)
    if data is not None:
        return data
    # A request for a report being built waits for it (and takes no slot).
    with _waiting_lock(where / "locks" / f"{key}.lock") if key else nullcontext():
        data = _read(path)
        if data is None:
            with _slot(where, user_id, limit):
                data = build()
            if path is not None:
                _keep(path, data)
    return data


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
        os.utime(path)  # the newest used are the last to go
        return data
    except FileNotFoundError:
        return None


def _keep(path: Path, data: bytes) -> None:
    """Write atomically (a temp file renamed over it), then drop the oldest beyond KEPT."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    files = sorted(path.parent.glob("*.bin"), key=_mtime, reverse=True)
    for old in files[KEPT:]:
        old.unlink(missing_ok=True)
    # Lock files of reports not kept (dropped, or refused before a build),
    # once an hour old: a request holding one meanwhile at worst builds twice.
    stale = time.time() - 3600
    for lock in (path.parent / "locks").glob("*.lock"):
        if not lock.name.startswith("user-") and not (path.parent / f"{lock.stem}.bin").exists() and _mtime(lock) < stale:
            lock.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


@contextmanager
def _slot(where: Path, user_id: int, limit: int) -> Iterator[None]:
    """One of the user's ``limit`` build slots, or TooManyBuilds at once."""
    for number in range(max(limit, 1)):
        fh = open(where / "locks" / f"user-{user_id}-{number}.lock", "a+b")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        try:
            yield
            return
        finally:
            fh.close()  # closing releases the flock
    raise TooManyBuilds(limit)


@contextmanager
def _waiting_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
