"""``isu-ledger import``: bank files -> booked entries, all or nothing.

One call imports any number of files as **one** write (one git commit named
``import <files>``), or nothing at all: every file is parsed and every
statement checked against the books before a byte is written, and the writer
checks the whole ledger again before committing.

The checks, and why:

* the statement is for the ledger's bank account (the IBAN on the bank's
  ``open`` directive) and in CHF: anything else would post another account's
  money to ours;
* its balances reconcile (opening + booked entries = closing): a file that
  contradicts itself cannot be booked;
* it continues the books. The statement's running balance just before its
  first *new* entry must equal the ledger's bank balance on that day, and the
  ledger's balance after booking it must equal its closing balance. Checking
  at the first new entry (not blindly at the opening date) is what lets an
  overlapping statement, or a camt.054 detailing a batch already booked from
  the camt.053, add only what is missing, while a missing month still shows
  as a gap between two balances;
* nothing is booked twice: ``(bank_account, bank_ref)`` is the key, across
  the ledger and the files of the call; a statement whose entries are all
  booked already is a re-import, not an error.

Files of one call are processed in date order, each seeing what the earlier
ones booked. Archived files go to ``documents/<year>/<name>`` (a short hash
suffix when another file of that name is there already).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from beancount.core import data

from importers import parse as api
from importers.booking import (
    Booked,
    Originals,
    book_statement,
    document_entry,
    money_text,
    one_line,
    statement_date,
)
from importers.model import BadFile, ParseResult, Statement
from ledger import conventions
from ledger.loader import load_books

ZERO = Decimal(0)
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
        """The ``import --json`` contract (DESIGN.md section 5); a dry run adds
        ``dry_run`` and, per file, each identification with its why."""
        doc = {
            "files": [f.to_json(preview=self.dry_run) for f in self.files],
            "imported": self.imported,
            "duplicates": self.duplicates,
            "needs_review": self.needs_review,
            "unreconciled": self.unreconciled,
        }
        if self.dry_run:
            doc["dry_run"] = True
        else:
            doc["commit"] = self.commit
        return doc


# --- what the import needs to know about the books ---------------------------


@dataclass
class _LedgerState:
    """The books as the import sees them, updated as statements are booked."""

    iban: str
    gichd_ibans: frozenset[str]
    refs: set[tuple[str, str]]
    bank: list[tuple[datetime.date, Decimal]]  # every bank posting
    originals: Originals
    locked_years: frozenset[int]
    documents: set[str]

    def balance_on(self, day: datetime.date) -> Decimal:
        """The bank balance at the end of ``day``."""
        return sum((amount for date, amount in self.bank if date <= day), ZERO)

    def last_date(self) -> datetime.date | None:
        return max((date for date, _ in self.bank), default=None)


def _norm(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def _ibans(value: Any) -> set[str]:
    return {_norm(v) for v in str(value or "").replace(",", " ").replace(";", " ").split() if v}


def locked_years_of(entries: Iterable[Any]) -> frozenset[int]:
    """Signed-off years, from the year-lock plugin when it is there."""
    try:
        from ledger.plugins.year_lock import locked_years
    except ImportError:  # the plugin is part of the product; tolerate it missing in isolation
        return frozenset(
            int(e.values[0].value)
            for e in entries
            if isinstance(e, data.Custom) and e.type == conventions.CUSTOM_LOCK and e.values
        )
    return frozenset(locked_years(list(entries)))


def ledger_state(entries: list) -> _LedgerState:
    iban = ""
    gichd: set[str] = set()
    refs: set[tuple[str, str]] = set()
    bank: list[tuple[datetime.date, Decimal]] = []
    documents: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Open):
            if entry.account == conventions.BANK:
                iban = _norm((entry.meta or {}).get(conventions.META_IBAN))
            elif entry.account == conventions.GICHD_CLEARING:
                gichd |= _ibans((entry.meta or {}).get("counterparty_iban"))
        elif isinstance(entry, data.Transaction):
            meta = entry.meta or {}
            if meta.get(conventions.META_BANK_REF):
                refs.add((_norm(meta.get(conventions.META_ACCOUNT)), meta[conventions.META_BANK_REF]))
            for posting in entry.postings:
                if posting.account == conventions.BANK and posting.units is not None:
                    bank.append((entry.date, posting.units.number))
        elif isinstance(entry, data.Document):
            documents.add(entry.filename)
    return _LedgerState(
        iban=iban,
        gichd_ibans=frozenset(gichd),
        refs=refs,
        bank=bank,
        originals=Originals(entries),
        locked_years=locked_years_of(entries),
        documents=documents,
    )


# --- files ---------------------------------------------------------------------


@dataclass
class _File:
    path: str
    raw: bytes
    result: ParseResult
    report: FileReport
    archive: str = ""
    archive_new: bool = False


def _read(path: str) -> _File:
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise BadFile(path, "is a directory, not a bank file") from None
    except FileNotFoundError:
        raise BadFile(path, "no such file") from None
    except PermissionError:
        raise BadFile(path, "cannot be read (permission denied)") from None
    result = api.parse_bytes(path, raw)
    report = FileReport(file=path, format=result.format, statements=len(result.statements))
    report.entries = sum(len(s.booked_entries) for s in result.statements if s.kind != "report")
    return _File(path=path, raw=raw, result=result, report=report)


def _archive_path(ledger_dir: Path, f: _File, planned: dict[str, bytes]) -> tuple[str, bool]:
    """``documents/<year>/<name>``; a hash suffix when the name is taken by other bytes.

    Returns the path and whether the file must be written (False: the same
    bytes are archived there already).
    """
    day = statement_date(f.result) or datetime.date.today()
    # One line, as the entries' ``statement`` metadata that names it (policy 14).
    name = PurePosixPath(one_line(Path(f.path).name) or "statement")
    base = f"{conventions.DOCUMENTS_DIR}/{day.year}"
    candidates = [f"{base}/{name}"]
    digest = hashlib.sha256(f.raw).hexdigest()
    suffixes = "".join(name.suffixes)
    stem = name.name[: len(name.name) - len(suffixes)] if suffixes else name.name
    candidates += [f"{base}/{stem}-{digest[:n]}{suffixes}" for n in (8, 16, 64)]
    for rel in candidates:
        existing = planned.get(rel)
        if existing is None:
            target = ledger_dir / rel
            existing = target.read_bytes() if target.is_file() else None
            if existing is None:
                return rel, True
        if existing == f.raw:
            return rel, False
    raise BadFile(f.path, "cannot find a free archive name")  # 2**256 collisions away


# --- checks ----------------------------------------------------------------------


def _check_statement(path: str, st: Statement, state: _LedgerState) -> None:
    label = f"statement {st.id or '?'}"
    if _norm(st.account) != state.iban:
        raise BadFile(path, f"{label} is for account {st.account or 'unknown'}, not the ledger's {state.iban}")
    currency = st.currency or (st.opening.currency if st.opening else None)
    if currency and currency != conventions.CURRENCY:
        raise BadFile(path, f"{label} is in {currency}; the ledger's account is in {conventions.CURRENCY}")
    for entry in st.booked_entries:
        if entry.currency != conventions.CURRENCY:
            raise BadFile(path, f"{label}: entry {entry.ref or '?'} is in {entry.currency}, not {conventions.CURRENCY}")
    if st.balance_ok is False:
        total = st.opening.amount + sum((e.amount for e in st.booked_entries), ZERO)
        raise BadFile(
            path,
            f"{label}: balances do not reconcile: opening {money_text(st.opening.amount)} + entries "
            f"= {money_text(total)} CHF, closing says {money_text(st.closing.amount)} CHF "
            f"(difference {money_text(st.closing.amount - total)})",
        )


def _check_continuity(path: str, st: Statement, booked: Booked, state: _LedgerState) -> None:
    """Does the statement continue the books? (see the module docstring)"""
    label = f"statement {st.id or '?'}"
    for entry in booked.new:
        if entry.booked.year in state.locked_years:
            raise BadFile(path, f"{label}: entry {entry.ref} is dated {entry.booked}, in signed-off year {entry.booked.year}")
    if st.opening is None or st.closing is None or not booked.new:
        return
    first_new = min(e.booked for e in booked.new)
    day = max(first_new - datetime.timedelta(days=1), st.opening.date)
    before = [e for e in st.booked_entries if e.booked < first_new]
    ours = st.opening.amount + sum((e.amount for e in before), ZERO)
    theirs = state.balance_on(day)
    if ours != theirs:
        last = state.last_date()
        if not before and not any(st.opening.date < d <= day for d, _ in state.bank):
            where = f"ledger balance on {st.opening.date} is {money_text(state.balance_on(st.opening.date))} CHF, statement opens with {money_text(st.opening.amount)} CHF"
        else:
            where = f"ledger balance on {day} is {money_text(theirs)} CHF, statement balance that day is {money_text(ours)} CHF"
        if last is None or last <= day:
            raise BadFile(path, f"{label}: gap: {where} — is a statement missing?")
        raise BadFile(path, f"{label}: does not match the books: {where} — is it out of order, or booked differently?")
    after = state.balance_on(st.closing.date) + sum((e.amount for e in booked.new if e.booked <= st.closing.date), ZERO)
    if after != st.closing.amount:
        raise BadFile(
            path,
            f"{label}: overlap mismatch: after booking it the ledger balance on {st.closing.date} would be "
            f"{money_text(after)} CHF, the statement closes with {money_text(st.closing.amount)} CHF — "
            "the books hold entries in this period that the statement does not (or the reverse)",
        )


# --- the import ---------------------------------------------------------------------


def _attribute_for(ledger_dir: Path, ticker: Callable[[], None]):
    from importers.identify import identify
    from ledger.registry import Registry
    from ledger.rules import index_rules, parse_rules

    registry = Registry.load(ledger_dir)
    rules_path = ledger_dir / conventions.RULES_FILE
    text = rules_path.read_text(encoding="utf-8") if rules_path.is_file() else ""
    rules = index_rules(parse_rules(text, conventions.RULES_FILE))

    def attribute(detail, entry):
        ticker()
        return identify(detail, entry, registry=registry, rules=rules, booking_date=entry.booked)

    return attribute


def _sort_key(item: tuple[_File, int, Statement]):
    f, number, st = item
    start = st.opening.date if st.opening else min((e.booked for e in st.booked_entries), default=datetime.date.max)
    end = st.closing.date if st.closing else max((e.booked for e in st.booked_entries), default=datetime.date.max)
    return (start, end, f.path, number)


class _BooksMoved(Exception):
    """The books got a commit between reading them and taking the write lock."""


def import_files(
    ledger_dir: Path | str,
    paths: Iterable[str | Path],
    *,
    dry_run: bool = False,
    user: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import bank files into the ledger; see the module docstring.

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
            return _import_once(ledger_dir, paths, dry_run=dry_run, user=user, progress=progress)
        except _BooksMoved:
            continue
    raise ImportRefused(f"{ledger_dir}: the books kept changing while this import was prepared; run it again")


def _import_once(  # noqa: C901
    ledger_dir: Path | str,
    paths: list[str | Path],
    *,
    dry_run: bool,
    user: str,
    progress: Progress | None,
) -> ImportReport:
    from ledger.store import gitrepo
    from ledger.store.writer import LedgerWriter

    ledger_dir = Path(ledger_dir).resolve()
    if not (ledger_dir / conventions.MAIN_FILE).is_file():
        raise ImportRefused(f"{ledger_dir}: not an isu-ledger directory (no {conventions.MAIN_FILE})")
    files = [_read(str(p)) for p in paths]
    seen_head = gitrepo.head(ledger_dir)
    books = load_books(ledger_dir)
    if books.errors:
        raise ImportRefused(f"{ledger_dir}: the ledger has {len(books.errors)} error(s) (first: {books.errors[0]}); run check")
    state = ledger_state(books.entries)
    if not state.iban:
        raise ImportRefused(f"{ledger_dir}: the bank account {conventions.BANK} has no iban metadata")

    statements = [(f, n, st) for f in files for n, st in enumerate(f.result.statements)]
    for f, _, st in statements:
        if st.kind != "report":
            _check_statement(f.path, st, state)
    statements.sort(key=_sort_key)
    planned: dict[str, bytes] = {}
    for f in files:
        f.archive, f.archive_new = _archive_path(ledger_dir, f, planned)
        planned[f.archive] = f.raw
        f.report.archive = f.archive

    total = sum(f.report.entries for f in files)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None and done[0] % 256 == 0:
            progress(done[0], total, "identifying")

    attribute = _attribute_for(ledger_dir, tick)
    new_entries: list = []
    per_file: dict[str, list] = {}
    for f, _, st in statements:
        if st.kind == "report":
            f.report.errors.append(f"statement {st.id or '?'}: camt.052 intraday report: nothing booked")
            continue
        booked = book_statement(
            f.result,
            st,
            attribute=attribute,
            archive_path=f.archive,
            existing_refs=state.refs,
            originals=state.originals,
            locked_years=state.locked_years,
            gichd_ibans=state.gichd_ibans,
        )
        _check_continuity(f.path, st, booked, state)
        account = _norm(st.account)
        for entry in booked.new:
            state.refs.add((account, entry.ref))
        for entry in booked.entries:
            if isinstance(entry, data.Transaction):
                state.refs.add((account, entry.meta[conventions.META_BANK_REF]))
                state.bank.extend((entry.date, p.units.number) for p in entry.postings if p.account == conventions.BANK)
        f.report.imported += booked.imported
        f.report.duplicates += booked.duplicates
        f.report.needs_review += booked.needs_review
        f.report.unreconciled += booked.unreconciled
        f.report.identifications.extend(booked.identifications)
        per_file.setdefault(f.path, []).extend(booked.entries)
        if progress is not None:
            progress(min(done[0], total), total, f"booked {Path(f.path).name}")

    documents = []
    for f in files:
        if not f.report.imported:
            continue
        day = max(e.date for e in per_file[f.path])
        doc = document_entry(f.archive, day, relative_to=conventions.TXN_DIR)
        if str((ledger_dir / f.archive).resolve()) not in state.documents:
            documents.append(doc)
        new_entries.extend(per_file[f.path])
    new_entries.extend(documents)
    report = ImportReport(files=[f.report for f in files], dry_run=dry_run, entries=new_entries)
    if dry_run or not new_entries:
        return report
    names = " ".join(Path(f.path).name for f in files)
    with LedgerWriter(ledger_dir, user=user, action=f"import {names}") as writer:
        if gitrepo.head(ledger_dir) != seen_head:  # under the lock HEAD cannot move
            raise _BooksMoved()
        for f in files:
            if f.report.imported and f.archive_new:
                writer.write_file(f.archive, f.raw)
        writer.add_entries(sorted(new_entries, key=data.entry_sortkey))
    report.commit = writer.commit
    return report


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
