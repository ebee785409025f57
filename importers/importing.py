"""``isu-ledger import``: bank files -> booked entries, all or nothing.

One call imports any number of files as **one** write (one git commit named
``import <files>``), or nothing at all: every file is parsed and every
statement checked against the books before a byte is written, and the writer
checks the whole ledger again before committing.

Each file goes through :class:`importers.beangulp_importer.IsuBankImporter`,
the same beangulp importer a beangulp ``import.py`` runs (its docstring says
what is checked and why). Files of one call are booked in date order, each
seeing what the earlier ones booked; a statement whose entries are all booked
already is a re-import, not an error. Archived files go to
``documents/<year>/<name>`` (a short hash suffix when another file of that
name is there already).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from beancount.core import data

from importers.beangulp_importer import BookedFile, IsuBankImporter, file_order
from importers.preview import bookings, proofs, totals
from ledger import conventions
from ledger.loader import load_books

Progress = Callable[[int, int, str], None]


class ImportRefused(Exception):
    """The ledger itself cannot take an import now (it has errors, no bank IBAN)."""


@dataclass
class FileReport:
    file: str
    format: str = ""
    statements: int = 0
    entries: int = 0  # booked bank entries in the file
    imported: int = 0
    duplicates: int = 0
    needs_review: int = 0  # items added to the review queue (unidentified receipts)
    unreconciled: int = 0  # transactions left on the clearing account, to reconcile by hand
    errors: list[str] = field(default_factory=list)
    archive: str | None = None
    identifications: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)  # importers.preview: every transaction to book
    proofs: list[dict] = field(default_factory=list)  # importers.preview: each statement's balance proof

    def to_json(self, *, preview: bool = False) -> dict:
        doc = {
            "file": self.file,
            "format": self.format,
            "statements": self.statements,
            "entries": self.entries,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "needs_review": self.needs_review,
            "unreconciled": self.unreconciled,
            "errors": list(self.errors),
        }
        if preview:
            doc["archive"] = self.archive
            doc["identifications"] = self.identifications
            doc["bookings"] = self.bookings
            doc["totals"] = totals(self.bookings)
            doc["proofs"] = self.proofs
        return doc


@dataclass
class ImportReport:
    files: list[FileReport]
    dry_run: bool = False
    commit: str | None = None
    entries: list = field(default_factory=list)  # what was (or would be) written

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def needs_review(self) -> int:
        return sum(f.needs_review for f in self.files)

    @property
    def unreconciled(self) -> int:
        return sum(f.unreconciled for f in self.files)

    def to_json(self) -> dict:
        """The ``import --json`` contract; a dry run adds ``dry_run`` and, per
        file, the archive path and each identification with its why."""
        doc = {
            "files": [f.to_json(preview=self.dry_run) for f in self.files],
            "imported": self.imported,
            "duplicates": self.duplicates,
            "needs_review": self.needs_review,
            "unreconciled": self.unreconciled,
        }
        if self.dry_run:
            doc["dry_run"] = True
            doc["totals"] = totals([row for f in self.files for row in f.bookings])
        else:
            doc["commit"] = self.commit
        return doc


# --- the import ---------------------------------------------------------------------


class _BooksMoved(Exception):
    """The books got a commit between reading them and taking the write lock."""


def import_files(
    ledger_dir: Path | str,
    paths: Iterable[str | Path],
    *,
    dry_run: bool = False,
    user: str,
    progress: Progress | None = None,
    label: str | None = None,
) -> ImportReport:
    """Import bank files into the ledger; see the module docstring.

    ``label`` ends the commit's subject in brackets ("web batch 12"), so the
    booking can be found again by who asked for it.

    Raises ``BadFile`` (one line naming the file and the problem) for any
    file that cannot be imported, ``ImportRefused`` when the ledger cannot
    take an import; the writer's ``WriteRefused``/``CheckFailed`` pass
    through. In every failure nothing is written.

    The books are read (for de-duplication and continuity) before the write
    lock is taken; when another write committed in between — two imports of
    the same file at once — the import is prepared again on the new books,
    so the second one finds the entries already booked.
    """
    paths = list(paths)
    for _ in range(3):
        try:
            return _import_once(ledger_dir, paths, dry_run=dry_run, user=user, progress=progress, label=label)
        except _BooksMoved:
            continue
    raise ImportRefused(f"{ledger_dir}: the books kept changing while this import was prepared; run it again")


def _import_once(
    ledger_dir: Path | str,
    paths: list[str | Path],
    *,
    dry_run: bool,
    user: str,
    progress: Progress | None,
    label: str | None,
) -> ImportReport:
    from ledger.store import gitrepo
    from ledger.store.writer import LedgerWriter

    ledger_dir = Path(ledger_dir).resolve()
    if not (ledger_dir / conventions.MAIN_FILE).is_file():
        raise ImportRefused(f"{ledger_dir}: not an isu-ledger directory (no {conventions.MAIN_FILE})")
    ticker = _Ticker(progress)
    importer = IsuBankImporter(ledger_dir, on_receipt=ticker.tick)
    files = [importer.read(str(p)) for p in paths]
    seen_head = gitrepo.head(ledger_dir)
    books = load_books(ledger_dir)
    if books.errors:
        raise ImportRefused(f"{ledger_dir}: the ledger has {len(books.errors)} error(s) (first: {books.errors[0]}); run check")
    if not importer.iban:
        raise ImportRefused(f"{ledger_dir}: the bank account {conventions.BANK} has no iban metadata")
    for f in files:
        importer.check(f.path)
    for f in files:
        importer.archive_path(f.path)
    ticker.total = sum(f.booked_entries for f in files)
    booked = _book_files(importer, files, books.entries, ticker)
    report = ImportReport(files=[_file_report(b) for b in booked], dry_run=dry_run, entries=_new_entries(booked))
    if not report.entries:
        return report
    # A dry run stages the very same write and runs the very same check, on a
    # scratch copy of the books: a preview is refused exactly when the booking would be.
    with LedgerWriter(ledger_dir, user=user, action=import_action([Path(f.path).name for f in files], label), dry_run=dry_run) as writer:
        if gitrepo.head(ledger_dir) != seen_head:  # under the lock HEAD cannot move
            raise _BooksMoved()
        for b in booked:
            if b.imported and b.archive_new:
                writer.write_file(b.archive, b.file.raw)
        writer.add_entries(sorted(report.entries, key=data.entry_sortkey))
    report.commit = writer.commit
    return report


IMPORT_ACTION = "import "  # how an import's commit subject begins


def import_action(names: list[str], label: str | None = None) -> str:
    """The commit subject of an import of the files ``names``."""
    return IMPORT_ACTION + " ".join(names) + (f" ({label})" if label else "")


_LABEL = re.compile(r" \([a-z]+(?: [a-z]+)* [0-9]+\)$")  # " (web batch 12)"


def imported_files(subject: str) -> str:
    """The file names in an import commit's subject, without its label."""
    return _LABEL.sub("", subject.removeprefix(IMPORT_ACTION))


def _book_files(importer: IsuBankImporter, files: list, existing: list, ticker: _Ticker) -> list[BookedFile]:
    """Book the files in date order; the results in the order of ``files``."""
    booked: dict[int, BookedFile] = {}
    for number, f in sorted(enumerate(files), key=lambda pair: file_order(pair[1])):
        booked[number] = importer.book(f.path, existing)
        ticker.show(f"booked {Path(f.path).name}")
    return [booked[number] for number in range(len(files))]


def _new_entries(booked: list[BookedFile]) -> list:
    """Every file's entries, then the document directives of the archived files."""
    entries = [e for b in booked for e in b.entries]
    return entries + [b.document for b in booked if b.document is not None]


def _file_report(b: BookedFile) -> FileReport:
    return FileReport(
        file=b.file.path,
        format=b.file.result.format,
        statements=len(b.file.result.statements),
        entries=b.file.booked_entries,
        imported=b.imported,
        duplicates=b.duplicates,
        needs_review=b.needs_review,
        unreconciled=b.unreconciled,
        errors=list(b.notes),
        archive=b.archive,
        identifications=b.identifications,
        bookings=bookings(b.entries),
        proofs=proofs(b.file.result.statements),
    )


class _Ticker:
    """Progress of an import: receipts identified of the booked entries of all files."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.done = 0
        self.total = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % 256 == 0:
            self.progress(self.done, self.total, "identifying")

    def show(self, label: str) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, label)


def summary_lines(report: ImportReport) -> list[str]:
    """The human summary of ``import`` (one line per file, then the totals)."""
    lines = []
    for f in report.files:
        line = (
            f"{f.file}: {f.format}, {f.entries} entries: {f.imported} imported, "
            f"{f.duplicates} already booked, {f.needs_review} to review{_to_reconcile(f.unreconciled)}"
        )
        lines.append(line)
        lines.extend(f"  note: {e}" for e in f.errors)
        if report.dry_run:
            for ident in f.identifications:
                target = ident["state_party"] if not ident["needs_review"] else "review"
                lines.append(f"  {ident['date']} {ident['amount']} {ident['payer'] or '?'} -> {target}: {ident['why']}")
    verb = "would import" if report.dry_run else "imported"
    tail = f" (commit {report.commit[:12]})" if report.commit else ""
    lines.append(
        f"{verb} {report.imported} entries, {report.duplicates} already booked, "
        f"{report.needs_review} to review{_to_reconcile(report.unreconciled)}{tail}"
    )
    return lines


def _to_reconcile(count: int) -> str:
    return f", {count} to reconcile" if count else ""
