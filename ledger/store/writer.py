"""The one writer of the ledger files.

Everything that changes the books — imports, review decisions, year close,
registry edits — goes through :class:`LedgerWriter`, so every change is

* **serialised**: an exclusive ``flock`` on ``.isu-ledger.lock``;
* **rendered by Beancount's printer**, and each rendered entry parsed back
  and compared with what was asked, so bank text (quotes, backslashes,
  newlines, ``include``/``option`` lookalikes) can only ever be inert text;
* **checked**: the whole ledger is loaded with the ISU plugins after the
  write; any error restores the previous bytes and raises ``CheckFailed``;
* **committed**: one git commit naming the user (as author) and the action;
* **backed up**: after the commit, outside the lock, pushed to the backup
  remotes (``ledger.store.backup``); a failed push never fails the write;
* **crash-safe**: before touching a file the previous bytes of every file
  are journalled (fsynced) - by reference (git blob id and sha256) for a file
  as committed in HEAD, by value for new and untracked ones; a journal left
  by a crash is rolled back by the next writer (or ``check``) before
  anything else happens.

Changes are staged in memory inside the ``with`` block and written only on
a normal exit, so an exception in the block leaves the files untouched.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from beancount.core import data
from beancount.parser import parser, printer
from beancount.utils.misc_utils import escape_string

from ledger import conventions
from ledger.store import backup, gitrepo

DEFAULT_TIMEOUT = 30.0

_META_SKIP = ("filename", "lineno")


class WriteRefused(Exception):
    """The write cannot start or cannot be committed: lock busy, dirty tree,
    files changed underneath, a path outside the ledger. Nothing was written."""


class CheckFailed(Exception):
    """The ledger would not pass ``check`` after the write; nothing was kept.

    ``errors`` lists each problem as ``file:line: message``.
    """

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        first = self.errors[0] if self.errors else "unknown error"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"the change fails the ledger check: {first}{more}")


# --- rendering ------------------------------------------------------------


def _escaped_for_printer(entry: Any) -> Any:
    """Pre-escape the string fields the printer writes without escaping.

    Beancount's printer escapes payee, narration and metadata strings but
    writes Custom string values, Note comments, Document filenames and Event
    texts verbatim between quotes; we escape them with Beancount's own
    ``escape_string`` so a quote can never end the string early.
    """
    if isinstance(entry, data.Custom):
        values = [
            (escape_string(v), t) if isinstance(v, str) and t is str else (v, t)
            for v, t in entry.values
        ]
        return entry._replace(values=values)
    if isinstance(entry, data.Note):
        return entry._replace(comment=escape_string(entry.comment))
    if isinstance(entry, data.Document):
        return entry._replace(filename=escape_string(entry.filename))
    if isinstance(entry, data.Event):
        return entry._replace(type=escape_string(entry.type), description=escape_string(entry.description))
    if isinstance(entry, data.Query):
        return entry._replace(name=escape_string(entry.name), query_string=escape_string(entry.query_string))
    return entry


# A stand-in file name for parse-backs: the parser resolves a Document's
# relative path against the directory of the file it reads.
_PARSE_BASE = "/isu-parse-back/file.beancount"


# Metadata values compared as they are (no named tuple or container in them).
_PLAIN = frozenset({str, Decimal, int, bool, datetime.date, type(None)})


def _meta_comparable(meta: dict | None) -> dict:
    return {
        k: v if type(v) in _PLAIN else _comparable(v)
        for k, v in (meta or {}).items()
        if k not in _META_SKIP and not k.startswith("__")
    }


def _comparable(value: Any, base: str = _PARSE_BASE) -> Any:
    """An entry with source metadata dropped, for comparing a parse-back of
    text parsed as the file ``base`` (a Document's relative path resolves
    against its directory)."""
    kind = type(value)
    if kind is data.Transaction:  # the bulk of every import: compared field by field, no reflection
        return _comparable_transaction(value)
    if isinstance(value, data.Document):
        resolved = os.path.normpath(os.path.join(os.path.dirname(base), value.filename))
        value = value._replace(filename=resolved)
    if isinstance(value, dict):
        return _meta_comparable(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return _comparable_record(value)
    if isinstance(value, tuple):
        return tuple(_comparable(v) for v in value)
    return value


def _comparable_transaction(txn: data.Transaction) -> tuple:
    return (
        "Transaction", txn.date, txn.flag, txn.payee, txn.narration,
        frozenset(txn.tags or ()), frozenset(txn.links or ()), _meta_comparable(txn.meta),
        [
            (p.account, p.units, p.cost, p.price, p.flag, _meta_comparable(p.meta))
            for p in txn.postings
        ],
    )  # fmt: skip


def _comparable_record(value: tuple) -> tuple[str, dict]:
    """A named tuple (any other directive, a posting, an amount) by its
    fields, with metadata, postings and values made comparable in turn."""
    items = {f: getattr(value, f) for f in value._fields}
    if "meta" in items:
        items["meta"] = _meta_comparable(items["meta"])
    for key in ("postings", "values"):
        if items.get(key) is not None:
            items[key] = [_comparable(v) for v in items[key]]
    for key in ("tags", "links"):
        if key in items:
            items[key] = frozenset(items[key] or ())
    return (type(value).__name__, items)


def render_entry(entry: Any) -> str:
    """Ledger text for one directive, proven to parse back to exactly it.

    Raises ValueError when the printed text would not mean the same entry
    (a malformed account or tag, an int in metadata, ...): better a refused
    write than a ledger that says something else than what was meant.
    """
    return render_texts([entry])[0]


def render_texts(entries: Iterable[Any]) -> list[str]:
    """The ledger text of each entry, all proven by ONE parse-back.

    Parsing the whole batch once (rather than once per entry) keeps a
    batch cheap; on a mismatch each entry is tried alone so the error names
    the one that does not render to itself.
    """
    entries = list(entries)
    texts = printed_texts(entries)
    if entries:
        _prove(entries, texts)
    return texts


def printed_texts(entries: list) -> list[str]:
    """Beancount's printer on each entry; not yet proven (see :func:`render_texts`)."""
    return [printer.format_entry(_escaped_for_printer(e)) for e in entries]


def _prove(entries: list, texts: list[str]) -> None:
    """Raise ValueError unless the texts, parsed together, give back exactly
    ``entries``; on a mismatch each is parsed alone so the error names the
    entry that does not render to itself."""
    parsed, errors, _ = parser.parse_string("\n".join(texts), report_filename=_PARSE_BASE)
    parsed.sort(key=lambda back: back.meta.get("lineno") or 0)
    if not errors and len(parsed) == len(entries) and all(
        _comparable(back) == _comparable(entry) for back, entry in zip(parsed, entries, strict=True)
    ):
        return
    for entry, text in zip(entries, texts, strict=True):
        alone, alone_errors, _ = parser.parse_string(text, report_filename=_PARSE_BASE)
        if alone_errors or len(alone) != 1 or _comparable(alone[0]) != _comparable(entry):
            why = alone_errors[0].message if alone_errors else f"{len(alone)} directive(s) parsed back"
            raise ValueError(f"entry dated {entry.date} does not render to itself ({why})")
    raise ValueError("entries do not render to themselves")


def split_lines(text: str) -> list[str]:
    """``text`` cut into lines as Beancount counts them: at ``\\n`` only
    (``str.splitlines`` also cuts at U+2028, form feeds and other separators
    that bank text may carry)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def render_entries(entries: Iterable[Any]) -> str:
    """Entries as ledger text, one blank line between entries."""
    return "\n".join(render_texts(entries))


def year_file_header(year: int) -> str:
    """The comment that opens a new ``txns/YYYY.beancount`` (static text)."""
    return (
        f"; Entries dated in {int(year)}. Written by isu-ledger: change them through\n"
        "; isu-ledger so every change is checked and committed.\n"
    )


# --- files ----------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content``: temp file, fsync, rename, fsync dir.

    A reader (Fava, bean-check) sees the old or the new file, never half.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".isu-tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def safe_relpath(ledger_dir: Path, rel: str | os.PathLike) -> str:
    """A ledger-relative path, refusing anything that could escape the ledger
    or touch git's or the writer's own files."""
    raw = str(rel)
    pure = PurePosixPath(raw)
    if not raw or pure.is_absolute() or raw.startswith("~") or ".." in pure.parts:
        raise WriteRefused(f"{raw}: not a path inside the ledger")
    parts = pure.parts
    norm = str(pure)
    if not parts or norm == "." or parts[0] == ".git" or norm in (conventions.LOCK_FILE, conventions.JOURNAL_FILE):
        raise WriteRefused(f"{raw}: not a file the writer may change")
    target = (ledger_dir / norm).resolve()
    if ledger_dir not in target.parents:
        raise WriteRefused(f"{raw}: resolves outside the ledger")
    return str(PurePosixPath(*parts))


# --- the journal -----------------------------------------------------------


def _write_journal(ledger_dir: Path, head: str | None, user: str, action: str, before: dict[str, bytes | None]) -> None:
    """Journal the previous bytes of every file the write will touch.

    A file as committed in HEAD (the writer starts from a clean tree, so a
    tracked file normally is) is journalled by reference: its blob id and the
    sha256 of its bytes; recovery takes it back out of git. Only new and
    untracked files - small: archived statements, a new year file's absence -
    carry their bytes. Journalling a 70 MB year file by value would write
    ~93 MB of base64 and fsync it before every import.
    """
    present = [rel for rel, content in before.items() if content is not None]
    blobs = gitrepo.head_blobs(ledger_dir, present) if head else {}
    files: dict[str, Any] = {}
    for rel, content in before.items():
        if content is None:
            files[rel] = None
        elif blobs.get(rel) is not None and blobs[rel] == gitrepo.blob_id(content):
            files[rel] = {"restore": "git", "head": head, "blob": blobs[rel],
                          "sha256": hashlib.sha256(content).hexdigest()}
        else:
            files[rel] = base64.b64encode(content).decode("ascii")
    doc = {"version": 2, "head": head, "user": user, "action": action, "files": files}
    atomic_write(ledger_dir / conventions.JOURNAL_FILE, json.dumps(doc, indent=1).encode("utf-8"))


def _journalled_bytes(ledger_dir: Path, rel: str, item: Any) -> bytes | None:
    """The previous bytes of ``rel`` as the journal records them (by value or from git)."""
    if item is None:
        return None
    if isinstance(item, str):
        return base64.b64decode(item)
    if isinstance(item, dict) and item.get("restore") == "git":
        content = gitrepo.cat_blob(ledger_dir, item["blob"])
        if hashlib.sha256(content).hexdigest() != item["sha256"]:
            raise WriteRefused(f"{rel}: the journalled version in git ({item['blob']}) does not match its "
                               "checksum; the interrupted write cannot be rolled back automatically")
        return content
    raise WriteRefused(f"{rel}: unknown journal record; the interrupted write cannot be rolled back automatically")


def _remove_journal(ledger_dir: Path) -> None:
    try:
        (ledger_dir / conventions.JOURNAL_FILE).unlink()
    except FileNotFoundError:
        return
    _fsync_dir(ledger_dir)


def _restore(ledger_dir: Path, before: dict[str, bytes | None]) -> None:
    for rel, content in before.items():
        path = ledger_dir / rel
        if content is None:
            if path.exists():
                path.unlink()
                _prune_empty_dirs(ledger_dir, path.parent)
        elif _read(path) != content:
            atomic_write(path, content)


def _prune_empty_dirs(ledger_dir: Path, directory: Path) -> None:
    while directory != ledger_dir and ledger_dir in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _recover_locked(ledger_dir: Path) -> bool:
    """Roll back a write interrupted by a crash (the lock is held by us).

    When HEAD moved since the journal was written the commit happened and
    only the journal deletion was lost: the files are the committed ones.
    Otherwise the files go back to the journalled bytes and the index to HEAD.
    """
    _remove_stale_temps(ledger_dir)
    journal = ledger_dir / conventions.JOURNAL_FILE
    if not journal.exists():
        return False
    doc = json.loads(journal.read_text(encoding="utf-8"))
    _remove_git_locks(ledger_dir)
    files = doc.get("files", {})
    if gitrepo.head(ledger_dir) == doc.get("head"):
        files = {rel: _journalled_bytes(ledger_dir, rel, item) for rel, item in files.items()}
        _restore(ledger_dir, files)
        try:
            gitrepo.unstage(ledger_dir, list(files))
        except gitrepo.GitError:
            pass
        what = f"restored {len(files)} file(s)"
    else:
        what = "the change had been committed; nothing to restore"
    _remove_journal(ledger_dir)
    print(
        f"isu-ledger: {ledger_dir}: recovered from an interrupted write "
        f"({doc.get('action', '?')} by {doc.get('user', '?')}): {what}",
        file=sys.stderr,
    )
    return True


def _remove_git_locks(ledger_dir: Path) -> None:
    """Delete git's lock files left by our git add/commit killed with the writer.

    Only called with a crash journal present and our lock held: the git
    process that made them died with the write the journal records. Left
    there, every later write fails ("index.lock: File exists").
    """
    git_dir = ledger_dir / ".git"
    for lock in [git_dir / "index.lock", git_dir / "HEAD.lock", *git_dir.glob("refs/heads/**/*.lock")]:
        lock.unlink(missing_ok=True)


def _stale_temps(ledger_dir: Path) -> list[Path]:
    """Temp files of ``atomic_write`` left by a crash before their rename."""
    return [
        p for p in ledger_dir.rglob(".isu-tmp-*")
        if p.is_file() and ".git" not in p.relative_to(ledger_dir).parts
    ]


def _remove_stale_temps(ledger_dir: Path) -> None:
    """Delete them (the lock is held by us, so no write of ours is running).

    A kill while the journal itself was being written leaves its half-written
    temp file and no journal; without this it would stay forever.
    """
    for path in _stale_temps(ledger_dir):
        path.unlink(missing_ok=True)


class _Lock:
    """An exclusive flock on the ledger's lock file, waited for up to ``timeout``."""

    def __init__(self, ledger_dir: Path, timeout: float):
        self.path = ledger_dir / conventions.LOCK_FILE
        self.timeout = timeout
        self.fh = None

    def acquire(self) -> None:
        fh = open(self.path, "a+b")
        deadline = time.monotonic() + max(self.timeout, 0.0)
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fh = fh
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise WriteRefused("ledger is busy: another write is in progress") from None
                time.sleep(0.05)

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def recover_journal(ledger_dir: Path | str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Roll back an interrupted write, if a journal was left. True if one was.

    Temp files a crash left before their rename are deleted too. Takes the lock first: a journal under a live writer is not a crash.
    """
    ledger_dir = Path(ledger_dir).resolve()
    if not (ledger_dir / conventions.JOURNAL_FILE).exists() and not _stale_temps(ledger_dir):
        return False
    lock = _Lock(ledger_dir, timeout)
    lock.acquire()
    try:
        return _recover_locked(ledger_dir)
    finally:
        lock.release()


# --- the writer -------------------------------------------------------------


@dataclass
class _Pending:
    """What will become of one file: the bytes read at first touch plus either
    a raw replacement or entry edits (block replacements, appends)."""

    base: bytes | None
    raw: bytes | None = None
    delete: bool = False  # the file goes (an undone import's archived statement)
    replacements: dict[int, tuple[int, str]] = field(default_factory=dict)  # start -> (end, text)
    appends: list[str] = field(default_factory=list)  # proven entry texts
    directives: dict[int, Any] | None = None  # lineno -> parsed directive of base

    @property
    def entry_edits(self) -> bool:
        return bool(self.replacements or self.appends)

    def result(self, rel: str) -> bytes | None:
        if self.delete:
            return None
        if self.raw is not None:
            return self.raw
        text = (self.base or b"").decode("utf-8")
        stem = PurePosixPath(rel).stem
        if self.base is None and rel.startswith(conventions.TXN_DIR + "/") and stem.isdigit():
            text = year_file_header(int(stem))
        if self.replacements:
            lines = split_lines(text)
            for start in sorted(self.replacements, reverse=True):
                end, new = self.replacements[start]
                lines[start - 1 : end] = [new] if new else []
            text = "".join(lines)
        for chunk in self.appends:  # a newline if needed, a blank line, the entry
            if text and not text.endswith("\n"):
                text += "\n"
            text += ("\n" if text else "") + chunk
        return text.encode("utf-8")


class LedgerWriter:
    """Stage changes to the ledger in a ``with`` block; write, check and
    commit them as one on a normal exit. See the module docstring."""

    def __init__(self, ledger_dir: Path | str, user: str, action: str, *, timeout: float = DEFAULT_TIMEOUT,
                 dry_run: bool = False):
        self.ledger_dir = Path(ledger_dir).resolve()
        # dry_run: the same staging and the same check, on a scratch copy of
        # the books; nothing of the ledger is written or committed (a preview).
        self.dry_run = dry_run
        self.user = user
        self.action = action
        self.timeout = timeout
        self.commit: str | None = None
        self._lock = _Lock(self.ledger_dir, timeout)
        self._head: str | None = None
        self._pending: dict[str, _Pending] = {}
        self._active = False
        self._locked: dict | None = None  # signed-off years, read at the first entry edit

    # -- context --------------------------------------------------------------
    def __enter__(self) -> LedgerWriter:
        if not (self.ledger_dir / conventions.MAIN_FILE).is_file():
            raise WriteRefused(f"{self.ledger_dir}: not an isu-ledger directory (no {conventions.MAIN_FILE})")
        self._lock.acquire()
        try:
            _recover_locked(self.ledger_dir)
            self._head = gitrepo.head(self.ledger_dir)
            if self._head is None:
                raise WriteRefused(f"{self.ledger_dir}: not a git repository with commits")
            self._require_clean_tree()
        except BaseException:
            self._lock.release()
            raise
        self._active = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                self._write_check_commit()
        finally:
            self._active = False
            self._pending.clear()
            self._lock.release()
        if self.commit is not None:
            # Outside the lock, and never raising: a backup remote that is down
            # cannot fail this booking nor hold up another; this call waits at
            # most the push timeout (ledger.store.backup).
            backup.after_commit(self.ledger_dir)
        return False

    def _require_clean_tree(self) -> None:
        for code, rel in gitrepo.status(self.ledger_dir):
            if code != "??":
                raise WriteRefused(f"{rel}: has changes not committed through isu-ledger")
            if rel.endswith(".beancount") or rel.startswith(conventions.REGISTRY_DIR + "/"):
                raise WriteRefused(f"{rel}: is a ledger file not committed through isu-ledger")

    # -- staging --------------------------------------------------------------
    def _pending_file(self, rel: str) -> _Pending:
        if not self._active:
            raise RuntimeError("LedgerWriter used outside its with-block")
        pending = self._pending.get(rel)
        if pending is None:
            pending = self._pending[rel] = _Pending(base=_read(self.ledger_dir / rel))
        return pending

    @property
    def changed_files(self) -> list[str]:
        return sorted(self._pending)

    def write_file(self, rel: str | os.PathLike, content: bytes) -> None:
        """Write any file of the ledger directory (ledger-relative path)."""
        rel = safe_relpath(self.ledger_dir, rel)
        pending = self._pending_file(rel)
        if pending.entry_edits or pending.delete:
            raise ValueError(f"{rel}: already has entry edits in this write")
        pending.raw = bytes(content)

    def remove_file(self, rel: str | os.PathLike) -> None:
        """Delete a file of the ledger directory in this write (ledger-relative path)."""
        rel = safe_relpath(self.ledger_dir, rel)
        pending = self._pending_file(rel)
        if pending.entry_edits or pending.raw is not None:
            raise ValueError(f"{rel}: already changed in this write")
        if pending.base is None:
            raise WriteRefused(f"{rel}: does not exist")
        pending.delete = True

    def write_text(self, rel: str | os.PathLike, text: str) -> None:
        self.write_file(rel, text.encode("utf-8"))

    def _entry_file(self, rel: str) -> _Pending:
        pending = self._pending_file(rel)
        if pending.raw is not None or pending.delete:
            raise ValueError(f"{rel}: already rewritten whole in this write")
        return pending

    def add_entries(self, entries: Iterable[Any], *, file: str | None = None) -> None:
        """Append entries, each to ``txns/<its year>.beancount``.

        ``file`` overrides the target (``accounts.beancount`` or another
        ``txns/*.beancount``), e.g. for an ``open`` directive of a new account.
        """
        target = None
        if file is not None:
            target = safe_relpath(self.ledger_dir, file)
            if target != conventions.ACCOUNTS_FILE and not (
                target.startswith(conventions.TXN_DIR + "/") and target.endswith(".beancount") and target.count("/") == 1
            ):
                raise WriteRefused(f"{file}: entries go to {conventions.ACCOUNTS_FILE} or {conventions.TXN_DIR}/*.beancount")
        entries = list(entries)
        for entry in entries:
            self._refuse_locked(entry)
        for entry, text in zip(entries, render_texts(entries), strict=True):
            rel = target or f"{conventions.TXN_DIR}/{entry.date.year}.beancount"
            self._entry_file(rel).appends.append(text)

    def replace_entry(self, old_entry: Any, new_entry: Any) -> None:
        """Rewrite exactly the text block of ``old_entry`` (as loaded: its meta
        names file and line) with ``new_entry``. A new date in another year
        moves the entry to that year's file."""
        self._refuse_locked(new_entry)
        rel, pending, start, end = self._block_of(old_entry)
        moves = (
            rel.startswith(conventions.TXN_DIR + "/")
            and PurePosixPath(rel).stem.isdigit()
            and int(PurePosixPath(rel).stem) != new_entry.date.year
        )
        new_text = render_entry(new_entry)
        pending.replacements[start] = (end, "" if moves else new_text)
        if moves:
            self.add_entries([new_entry])

    def remove_entry(self, old_entry: Any) -> None:
        """Delete the text block of ``old_entry`` (as loaded), with the blank
        line that separates it from the entry before: removing what
        ``add_entries`` appended gives back the file as it was."""
        rel, pending, start, end = self._block_of(old_entry)
        lines = split_lines(pending.base.decode("utf-8"))
        if start > 1 and not lines[start - 2].strip() and (start - 1) not in pending.replacements:
            start -= 1
        pending.replacements[start] = (end, "")

    def _block_of(self, old_entry: Any) -> tuple[str, _Pending, int, int]:
        """(file, its pending change, first line, last line) of a loaded entry
        to rewrite, refused in a signed-off year or when the file moved."""
        meta = old_entry.meta or {}
        filename, lineno = meta.get("filename"), meta.get("lineno")
        if not filename or not lineno:
            raise ValueError("replace_entry needs the entry as loaded (meta filename and lineno)")
        self._refuse_locked(old_entry)
        try:
            rel = str(Path(filename).resolve().relative_to(self.ledger_dir))
        except ValueError:
            raise WriteRefused(f"{filename}: not a file of this ledger") from None
        rel = safe_relpath(self.ledger_dir, rel)
        pending = self._entry_file(rel)
        if pending.base is None:
            raise WriteRefused(f"{rel}: does not exist any more")
        start, end = self._locate_block(rel, pending, old_entry, int(lineno))
        if start in pending.replacements or any(s < start <= e for s, (e, _) in pending.replacements.items()):
            raise ValueError(f"{rel}:{start}: entry replaced twice in one write")
        return rel, pending, start, end

    def _refuse_locked(self, entry: Any) -> None:
        """Refuse an entry dated in a signed-off year, before anything is staged.

        The year-lock plugin would fail the check after the write anyway; this
        says why in one line, naming the sign-off. Sign-off directives
        themselves are exempt: they are not part of any year's fingerprint (a
        later year's sign-off may be dated in a signed-off year).
        """
        from ledger.fingerprint import is_sign_off

        if is_sign_off(entry):
            return
        if self._locked is None:
            from ledger.loader import load_books
            from ledger.plugins.year_lock import locked_years

            self._locked = locked_years(load_books(self.ledger_dir).entries)
        sign_off = self._locked.get(entry.date.year)
        if sign_off is not None:
            year = entry.date.year
            raise WriteRefused(
                f"{year} is signed off (auditor {sign_off.auditor}, opinion {sign_off.opinion_date}): "
                f"nothing dated in {year} can change; book a correction in the open year"
            )

    def _locate_block(self, rel: str, pending: _Pending, old_entry: Any, lineno: int) -> tuple[int, int]:
        """The (first, last) line of the entry starting at ``lineno``.

        The block runs to the line before the next directive; trailing blank
        and comment lines are left out as long as the entry still parses the
        same without them (a line inside a multi-line string stays in).
        """
        text = pending.base.decode("utf-8")
        if pending.directives is None:
            parsed, _, _ = parser.parse_string(text)
            pending.directives = {e.meta["lineno"]: e for e in parsed}
        found = pending.directives.get(lineno)
        if found is None or not _same_entry(found, old_entry):
            raise WriteRefused(f"{rel}:{lineno}: the entry is not there any more (file changed since it was loaded)")
        lines = split_lines(text)
        later = [n for n in pending.directives if n > lineno]
        end = (min(later) - 1) if later else len(lines)
        reference = _comparable(found)
        while end > lineno and (not lines[end - 1].strip() or lines[end - 1].startswith(";")):
            trial, errors, _ = parser.parse_string("".join(lines[lineno - 1 : end - 1]))
            if errors or len(trial) != 1 or _comparable(trial[0]) != reference:
                break
            end -= 1
        return lineno, end

    # -- commit ---------------------------------------------------------------
    def _write_check_commit(self) -> None:
        """Write the changed files (journalled), check the whole ledger, commit;
        on any failure put every file back as it was."""
        if not self._pending:
            return
        new_bytes = {rel: p.result(rel) for rel, p in self._pending.items()}
        changed = [rel for rel in new_bytes if new_bytes[rel] != self._pending[rel].base]
        if not changed:
            return
        before = {rel: self._pending[rel].base for rel in changed}
        self._refuse_moved_ledger(before)
        if self.dry_run:
            self._check_scratch(new_bytes, changed)
            return
        try:
            _write_journal(self.ledger_dir, self._head, self.user, self.action, before)
        except OSError as exc:  # disk full, file size limit: atomic_write left nothing behind
            raise WriteRefused(_cannot_write(conventions.JOURNAL_FILE, exc)) from exc
        writing = None
        try:
            for rel in changed:
                writing = rel
                _put(self.ledger_dir, rel, new_bytes[rel])
            writing = None
            if any(None in (before[rel], new_bytes[rel]) and rel.endswith(".beancount") for rel in changed):
                # A new (or deleted) file matching the glob include changes no
                # included file: touch main so Fava and Beancount's pickle cache reload.
                os.utime(self.ledger_dir / conventions.MAIN_FILE)
            self._check_and_commit(changed)
        except BaseException as exc:
            self._roll_back(before)
            if writing is not None and isinstance(exc, OSError):
                raise WriteRefused(_cannot_write(writing, exc)) from exc
            raise
        _remove_journal(self.ledger_dir)

    def _check_scratch(self, new_bytes: dict[str, bytes | None], changed: list[str]) -> None:
        """The write's check on a scratch copy of the books (files hard-linked,
        the changed ones replaced): raise ``CheckFailed`` as the real write would."""
        from ledger.check import check_ledger  # late: check imports the loader

        with _scratch_dir(self.ledger_dir) as scratch:
            copy = Path(scratch) / "books"
            shutil.copytree(self.ledger_dir, copy, copy_function=_link_or_copy, ignore=shutil.ignore_patterns(
                ".git", "*.picklecache", "*.sqlite3*", conventions.LOCK_FILE, conventions.JOURNAL_FILE))
            for rel in changed:
                _put(copy, rel, new_bytes[rel])
            errors = check_ledger(copy, recover=False)
        if errors:
            raise CheckFailed(errors)

    def _refuse_moved_ledger(self, before: dict[str, bytes | None]) -> None:
        """Refuse when the ledger moved under this write: a commit by someone
        else, or a file to change no longer holding the bytes this write read."""
        if gitrepo.head(self.ledger_dir) != self._head:
            raise WriteRefused(f"{self.ledger_dir}: the ledger was committed to by someone else during this write")
        for rel, old in before.items():
            if _read(self.ledger_dir / rel) != old:
                raise WriteRefused(f"{rel}: changed on disk since this write started")

    def _check_and_commit(self, changed: list[str]) -> None:
        from ledger.check import check_ledger  # late: check imports the loader

        errors = check_ledger(self.ledger_dir, recover=False)
        if errors:
            raise CheckFailed(errors)
        gitrepo.add(self.ledger_dir, changed)
        message = f"{self.action}\n\nUser: {self.user}\nAction: {self.action}\nFiles: {', '.join(changed)}\n"
        self.commit = gitrepo.commit(self.ledger_dir, message, self.user)

    def _roll_back(self, before: dict[str, bytes | None]) -> None:
        """The files as they were, nothing staged, no journal left."""
        _restore(self.ledger_dir, before)
        try:
            gitrepo.unstage(self.ledger_dir, list(before))
        except gitrepo.GitError:
            pass
        _remove_journal(self.ledger_dir)


def _put(ledger_dir: Path, rel: str, content: bytes | None) -> None:
    """Write (or, for None, delete) one file of the ledger."""
    path = ledger_dir / rel
    if content is not None:
        atomic_write(path, content)
    elif path.exists():
        path.unlink()
        _fsync_dir(path.parent)
        _prune_empty_dirs(ledger_dir, path.parent)


def _scratch_dir(ledger_dir: Path) -> tempfile.TemporaryDirectory:
    """A temporary directory beside the ledger (the same file system: hard
    links, not copies, of a large ledger's files), else the system's."""
    try:
        return tempfile.TemporaryDirectory(prefix=".isu-dry-run-", dir=ledger_dir.parent)
    except OSError:
        return tempfile.TemporaryDirectory(prefix="isu-dry-run-")


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link (a scratch copy of a large ledger costs no disk), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_plan(ledger_dir: Path | str, user: str, action: str, entries: list, replacements=(), files=()) -> str | None:
    """One commit of ``files`` (relative path, bytes), entry ``replacements``
    (old, new) and new ``entries``: what a workbook upload or a finance
    command plans. Returns the commit (None when nothing changed)."""
    with LedgerWriter(ledger_dir, user, action) as writer:
        for rel, content in files:
            writer.write_file(rel, content)
        for old, new in replacements:
            writer.replace_entry(old, new)
        writer.add_entries(entries)
    return writer.commit


def _cannot_write(rel: str, exc: OSError) -> str:
    """The one-line refusal for a ledger file the OS would not write (ENOSPC, EFBIG, EDQUOT...)."""
    return f"{rel}: cannot be written ({exc.strerror or exc}); nothing was changed"


def _same_entry(parsed: Any, loaded: Any) -> bool:
    """Is the directive parsed from the file the one that was loaded?

    Loaded entries went through booking and plugins, so we compare what
    those do not change: type, date, payee, narration, posting accounts.
    """
    if type(parsed) is not type(loaded) or parsed.date != loaded.date:
        return False
    if isinstance(parsed, data.Transaction):
        return (
            parsed.payee == loaded.payee
            and parsed.narration == loaded.narration
            and [p.account for p in parsed.postings] == [p.account for p in loaded.postings]
        )
    return True
