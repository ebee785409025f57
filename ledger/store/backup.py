"""Backup remotes: no single disk holds the only copy of the books.

A backup remote is any git remote of the books named ``backup`` or
``backup-NAME`` (another disk, a server); restoring is ``git clone``.
After each commit the writer calls :func:`after_commit`, which pushes the
branch to every backup remote, outside the write lock and each push with
a timeout: a remote that is slow, gone or refusing never fails or holds up
a booking. A push that fails is tried again after the next commit and by
``isu-ledger backup push``.

Whether a remote is level is git's own state: a successful push moves the
remote-tracking ref ``refs/remotes/NAME/BRANCH``, so a remote is level when
that ref is HEAD. Only the reason of the last failed push, and when it
happened, is kept beside it in ``.git/isu-backup.json`` so that ``check``
and the dashboard can say why a remote is behind.

Pushes of several processes (the web workers, the command line) are
serialised by an flock on ``.git/isu-backup.lock``. A commit that finds
the lock taken does not wait: the process holding it looks at HEAD again
after releasing it and pushes once more if HEAD moved.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger.store import gitrepo

DEFAULT_TIMEOUT = 30.0  # seconds one push may take before it is killed
STATE_FILE = "isu-backup.json"
LOCK_FILE = "isu-backup.lock"
_NAME = re.compile(r"^backup(-[A-Za-z0-9][A-Za-z0-9._-]{0,39})?$")
_MAX_ROUNDS = 5  # pushes in a row by one process while HEAD keeps moving


class BackupRefused(Exception):
    """A backup command that cannot be done; ``str()`` is one line."""


@dataclass(frozen=True)
class RemoteStatus:
    """One backup remote as git knows it, with its last failure while behind."""

    name: str
    url: str
    head: str | None  # the books' HEAD
    pushed: str | None  # what the remote holds, as far as the last successful push knows
    error: str | None = None  # the last failed push's reason (only while behind)
    failed_at: str | None = None  # when it failed (ISO, UTC)

    @property
    def level(self) -> bool:
        return self.head is not None and self.pushed == self.head

    def line(self) -> str:
        """One line for ``backup status``, ``check`` and the dashboard."""
        if self.level:
            return f"{self.name}: level with the books at {self.head[:12]}"
        where = f"holds {self.pushed[:12]}" if self.pushed else "never pushed"
        why = f"; last push failed at {self.failed_at}: {self.error}" if self.error else ""
        return f"{self.name}: behind the books ({where}, books at {(self.head or '?')[:12]}){why}"


def is_backup_name(name: str) -> bool:
    return bool(_NAME.match(name))


def branch(ledger_dir: Path | str) -> str:
    return gitrepo.run(ledger_dir, "symbolic-ref", "--short", "HEAD").strip()


def remotes(ledger_dir: Path | str) -> dict[str, str]:
    """Backup remote name -> URL, in name order."""
    names = [n for n in gitrepo.run(ledger_dir, "remote").split() if is_backup_name(n)]
    return {n: gitrepo.run(ledger_dir, "remote", "get-url", n).strip() for n in sorted(names)}


# --- the failure record -----------------------------------------------------------


def _read_state(git_dir: Path) -> dict:
    try:
        state = json.loads((git_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(git_dir: Path, state: dict) -> None:
    """Atomically (a temp file renamed over it); called with the backup lock held."""
    fd, tmp = tempfile.mkstemp(dir=git_dir, prefix=".isu-backup-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, git_dir / STATE_FILE)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- pushing ---------------------------------------------------------------------------


@contextmanager
def _lock(git_dir: Path, wait: float | None) -> Iterator[bool]:
    """The backup lock: yields False at once if it is taken and ``wait`` is
    None, else waits up to ``wait`` seconds (then yields False)."""
    fh = open(git_dir / LOCK_FILE, "a+b")
    deadline = time.monotonic() + (wait or 0.0)
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait is None or time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.1)
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def _push_all(ledger_dir: Path, git_dir: Path, names: list[str], timeout: float) -> str | None:
    """Push HEAD's branch to each remote (the lock is held); return the HEAD pushed."""
    head = gitrepo.head(ledger_dir)
    ref = f"refs/heads/{branch(ledger_dir)}"
    state = _read_state(git_dir)
    for name in names:
        try:
            gitrepo.push(ledger_dir, name, f"{ref}:{ref}", timeout=timeout)
            state[name] = {"ok": True, "at": _now(), "commit": head, "error": None}
        except gitrepo.GitError as exc:
            state[name] = {"ok": False, "at": _now(), "commit": head, "error": str(exc)}
    _write_state(git_dir, state)
    return head


def push(ledger_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT, wait: float | None = None) -> list[RemoteStatus] | None:
    """Push the books to every backup remote and return their status.

    Returns None, having pushed nothing, when another process holds the
    backup lock (and ``wait`` seconds passed): that process pushes HEAD
    again when it is done, so this commit is not left behind.
    """
    ledger_dir = Path(ledger_dir)
    names = list(remotes(ledger_dir))
    if not names:
        return []
    git_dir = gitrepo.git_dir(ledger_dir)
    pushed = None
    for _ in range(_MAX_ROUNDS):
        with _lock(git_dir, wait) as locked:
            if not locked:
                break
            pushed = _push_all(ledger_dir, git_dir, names, timeout)
        wait = None  # rounds after the first only push if nobody else is pushing
        if gitrepo.head(ledger_dir) == pushed:
            break
    return None if pushed is None else status(ledger_dir)


def after_commit(ledger_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """What the writer runs after each commit: push, and never raise.

    A failure is recorded (``status`` shows it) and retried by the next
    commit or ``backup push``; the booking is already committed."""
    try:
        push(ledger_dir, timeout=timeout)
    except (gitrepo.GitError, OSError):
        pass


def status(ledger_dir: Path | str) -> list[RemoteStatus]:
    """Each backup remote: level with HEAD or behind (and why, if a push failed)."""
    ledger_dir = Path(ledger_dir)
    found = remotes(ledger_dir)
    if not found:
        return []
    head = gitrepo.head(ledger_dir)
    ref = branch(ledger_dir)
    state = _read_state(gitrepo.git_dir(ledger_dir))
    result = []
    for name, url in found.items():
        try:
            pushed = gitrepo.run(ledger_dir, "rev-parse", "--verify", "-q", f"refs/remotes/{name}/{ref}").strip() or None
        except gitrepo.GitError:
            pushed = None
        last = state.get(name) if isinstance(state.get(name), dict) else {}
        failed = pushed != head and last.get("ok") is False
        result.append(RemoteStatus(
            name=name, url=_masked(url), head=head, pushed=pushed,
            error=str(last.get("error")) if failed else None,
            failed_at=str(last.get("at")) if failed else None,
        ))
    return result


def _masked(url: str) -> str:
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", url)


# --- adding and removing -------------------------------------------------------------


def add(ledger_dir: Path | str, name: str, url: str) -> None:
    """Add a backup remote (``git remote add``); its first push is the caller's."""
    if not is_backup_name(name):
        raise BackupRefused(f"{name}: a backup remote is named 'backup' or 'backup-NAME' (letters, digits, . _ -)")
    url = url.strip()
    if not url or url.startswith("-") or any(c in url for c in "\r\n\0"):
        raise BackupRefused(f"{url!r}: not a git URL or path")
    if name in remotes(ledger_dir):
        raise BackupRefused(f"{name}: already a backup remote ({_masked(remotes(ledger_dir)[name])})")
    gitrepo.run(ledger_dir, "remote", "add", name, url)


def remove(ledger_dir: Path | str, name: str) -> None:
    """Remove a backup remote and its failure record; the remote's data stays where it is."""
    if name not in remotes(ledger_dir):
        raise BackupRefused(f"{name}: no such backup remote")
    gitrepo.run(ledger_dir, "remote", "remove", name)
    git_dir = gitrepo.git_dir(ledger_dir)
    with _lock(git_dir, DEFAULT_TIMEOUT) as locked:
        state = _read_state(git_dir)
        if locked and state.pop(name, None) is not None:
            _write_state(git_dir, state)
