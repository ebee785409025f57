"""Undo one import: take out of the books what its commit booked, in one commit.

An import is one git commit (``import <files>``) that only appended entries
to ``txns/<year>.beancount`` and added the archived bank files under
``documents/``. Its entries are read back from that commit's own diff (the
appended text, parsed), found in the books as they are now, and removed
through the writer - one reversing commit ``undo import <commit>``, checked
like every write. The archived files it added go too, so importing the same
file again books the same entries again (a year file the import opened keeps
its header line: the re-import appends to it byte for byte as before).

Refused in one line, nothing written, when the books no longer hold the
import as it was booked:

* an entry of it is dated in a signed-off year (the year is frozen);
* a later import books entries on or after its first day - the later
  statement continues from this one's closing balance: undo that one first;
* a receipt of it was changed since (a review decision attributed it): undoing
  would silently throw that decision away;
* it was undone already.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beancount.core import data
from beancount.parser import parser

from importers.booking import money_text
from importers.importing import IMPORT_ACTION, imported_files
from ledger import conventions
from ledger.loader import load_books
from ledger.plugins.year_lock import locked_years
from ledger.store import gitrepo

UNDO_ACTION = "undo import "


class UndoRefused(Exception):
    """The import cannot be undone; ``str()`` is the one-line reason."""


@dataclass
class ImportCommit:
    """What one import commit booked, read from its diff."""

    commit: str
    files: str  # the bank files, as its action names them
    entries: list = field(default_factory=list)  # parsed from the appended text
    documents: list[str] = field(default_factory=list)  # archived files it added

    @property
    def first_day(self) -> datetime.date | None:
        return min((e.date for e in self.entries), default=None)


@dataclass
class UndoReport:
    commit: str  # the import undone
    entries: int  # entries removed (transactions, balances, documents)
    receipts: int  # of which bank transactions
    documents: list[str]
    undo_commit: str | None = None  # None for a dry run

    def to_json(self) -> dict:
        return {"import": self.commit, "entries": self.entries, "transactions": self.receipts,
                "documents": self.documents, "commit": self.undo_commit}


def _log(ledger_dir: Path, *args: str) -> list[tuple[str, str]]:
    """(commit, subject) of ``git log args``, newest first."""
    lines = gitrepo.log(ledger_dir, "--format=%H%x09%s", *args).splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if "\t" in line]


def resolve_commit(ledger_dir: Path | str, ref: str) -> str:
    """The full id of the import commit ``ref`` (a commit id or its prefix)."""
    ledger_dir = Path(ledger_dir).resolve()
    ref = ref.strip()
    if not (4 <= len(ref) <= 64 and all(c in "0123456789abcdefABCDEF" for c in ref)):
        raise UndoRefused(f"{ref}: not an import commit (give the commit id an import printed)")
    try:
        found = _log(ledger_dir, "-1", f"{ref}^{{commit}}", "--")
    except gitrepo.GitError:
        found = []
    if not found:
        raise UndoRefused(f"{ref}: no such commit in the books")
    sha, subject = found[0]
    if not subject.startswith(IMPORT_ACTION):
        raise UndoRefused(f"{ref}: commit {sha[:12]} is not an import ({subject[:80]})")
    return sha


def read_import(ledger_dir: Path, commit: str) -> ImportCommit:
    """The entries and files one import commit added (see the module docstring)."""
    subject = _log(ledger_dir, "-1", commit, "--")[0][1]
    found = ImportCommit(commit, imported_files(subject))
    for line in gitrepo.run(ledger_dir, "diff", "--name-status", "--no-renames", f"{commit}^", commit, "--").splitlines():
        status, rel = line.split("\t", 1)
        if rel.startswith(conventions.DOCUMENTS_DIR + "/") and status == "A":
            found.documents.append(rel)
        elif rel.startswith(conventions.TXN_DIR + "/") and rel.endswith(".beancount"):
            found.entries.extend(_appended_entries(ledger_dir, commit, rel))
    return found


def _appended_entries(ledger_dir: Path, commit: str, rel: str) -> list:
    """The entries ``commit`` appended to ``rel``, parsed as that file would be."""
    diff = gitrepo.run(ledger_dir, "diff", "--no-color", "--unified=0", f"{commit}^", commit, "--", rel)
    added = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("-"):
            raise UndoRefused(f"commit {commit[:12]} changed entries of {rel} besides adding them: not an import the undo can reverse")
        if line.startswith("+"):
            added.append(line[1:])
    entries, errors, _ = parser.parse_string("".join(added), report_filename=str(ledger_dir / rel))
    if errors:
        raise UndoRefused(f"commit {commit[:12]}: what it added to {rel} does not read back as entries")
    return entries


def _key(entry: Any) -> tuple | None:
    """What identifies an imported entry in the books, whatever edits came after."""
    meta = entry.meta or {}
    if isinstance(entry, data.Transaction):
        return ("txn", entry.date, meta.get(conventions.META_ACCOUNT), meta.get(conventions.META_BANK_REF))
    if isinstance(entry, data.Balance):
        return ("balance", entry.date, entry.account, entry.amount, meta.get(conventions.META_ACCOUNT))
    if isinstance(entry, data.Document):
        return ("document", entry.date, entry.account, str(Path(entry.filename).resolve()))
    return None


def _as_booked(entry: data.Transaction) -> tuple:
    return entry.flag, [(p.account, p.units) for p in entry.postings]


def _describe(entry: data.Transaction) -> str:
    meta = entry.meta or {}
    bank = sum((p.units.number for p in entry.postings if p.account == conventions.BANK and p.units), start=0)
    payer = meta.get(conventions.META_PAYER) or entry.payee or "?"
    return f"{entry.date} {money_text(bank)} CHF {payer} (bank ref {meta.get(conventions.META_BANK_REF)})"


def _later_imports(ledger_dir: Path, booked: ImportCommit) -> list[ImportCommit]:
    """The imports committed after ``booked``, not undone, with entries on or after its first day."""
    history = _log(ledger_dir, f"{booked.commit}..HEAD", "--")
    undone = {subject.removeprefix(UNDO_ACTION).strip() for _, subject in history if subject.startswith(UNDO_ACTION)}
    later = []
    for sha, subject in reversed(history):
        if subject.startswith(IMPORT_ACTION) and sha not in undone:
            other = read_import(ledger_dir, sha)
            if booked.first_day and any(e.date >= booked.first_day for e in other.entries):
                later.append(other)
    return later


def undone_by(ledger_dir: Path | str, commit: str) -> str | None:
    """The commit that undid the import ``commit``, if any."""
    return committed_as(ledger_dir, commit, UNDO_ACTION + commit)


def committed_as(ledger_dir: Path | str, since: str | None, subject: str) -> str | None:
    """The commit after ``since`` (or in the whole history) whose subject is
    exactly ``subject``, if any; the newest when several."""
    for sha, found in _log(Path(ledger_dir).resolve(), f"{since}..HEAD" if since else "HEAD", "--"):
        if found == subject:
            return sha
    return None


def _refuse_signed_off(booked, locked, label: str) -> None:
    """Refuse an import with an entry dated in a signed-off year: the year is frozen."""
    for year in sorted({e.date.year for e in booked.entries}):
        if year in locked:
            sign_off = locked[year]
            raise UndoRefused(f"{label} cannot be undone: {year} is signed off (auditor {sign_off.auditor}, "
                              f"opinion {sign_off.opinion_date}); book a correction in the open year")


def _as_in_the_books(booked, entries: list, label: str) -> list:
    """The import's entries as the books hold them now; refused when one is
    gone or a receipt was changed since (a review decision would be lost)."""
    current: dict[tuple, Any] = {}
    for entry in entries:
        key = _key(entry)
        if key is not None:
            current.setdefault(key, entry)
    found, changed = [], []
    for entry in booked.entries:
        now = current.get(_key(entry))
        if now is None:
            raise UndoRefused(f"{label} cannot be undone: its entry dated {entry.date} is not in the books any more")
        if isinstance(entry, data.Transaction) and _as_booked(now) != _as_booked(entry):
            changed.append(_describe(now))
        found.append(now)
    if changed:
        raise UndoRefused(f"{label} cannot be undone: review decisions were made on its receipts since: "
                          f"{'; '.join(changed)}")
    return found


def undo_import(
    ledger_dir: Path | str,
    commit: str,
    *,
    user: str,
    label: str | None = None,
    name_of: Callable[[str], str] | None = None,
    dry_run: bool = False,
) -> UndoReport:
    """Remove what the import ``commit`` booked (see the module docstring).

    ``label`` names the import in refusals ("batch 3"; default: its commit),
    ``name_of(commit)`` a later import ("batch 4"). A dry run makes every
    check, the writer's included, and writes nothing.
    """
    from ledger.store.writer import LedgerWriter

    ledger_dir = Path(ledger_dir).resolve()
    commit = resolve_commit(ledger_dir, commit)
    label = label or f"the import {commit[:12]} ({imported_files(_log(ledger_dir, '-1', commit, '--')[0][1])})"
    name_of = name_of or (lambda sha: f"the import {sha[:12]}")
    done = undone_by(ledger_dir, commit)
    if done:
        raise UndoRefused(f"{label} was undone already (commit {done[:12]})")
    booked = read_import(ledger_dir, commit)
    books = load_books(ledger_dir)
    if books.errors:
        raise UndoRefused(f"{ledger_dir}: the ledger has {len(books.errors)} error(s) (first: {books.errors[0]}); run check")
    _refuse_signed_off(booked, locked_years(books.entries), label)
    later = _later_imports(ledger_dir, booked)
    if later:
        names = ", ".join(f"{name_of(other.commit)} ({other.files})" for other in later)
        raise UndoRefused(f"{label} cannot be undone: {names} continues from its closing balance; undo that first")
    found = _as_in_the_books(booked, books.entries, label)
    with LedgerWriter(ledger_dir, user, UNDO_ACTION + commit, dry_run=dry_run) as writer:
        for entry in found:
            writer.remove_entry(entry)
        for rel in booked.documents:
            if (ledger_dir / rel).exists():
                writer.remove_file(rel)
    return UndoReport(
        commit=commit,
        entries=len(found),
        receipts=sum(isinstance(e, data.Transaction) for e in found),
        documents=list(booked.documents),
        undo_commit=writer.commit,
    )
