"""One bank file -> checked, identified, booked entries: a beangulp importer.

``IsuBankImporter`` is the path every bank file takes, whether
``isu-ledger import`` (:mod:`importers.importing`) or a beangulp user's
``import.py`` (``beangulp.Ingest([IsuBankImporter("books")])``, see
``docs/beangulp-import.py``) drives it. ``extract`` parses the file
(:mod:`importers.parse`), checks each statement against the books, books its
new entries (:mod:`importers.booking`) with the identification of
:mod:`importers.identify`, and returns the transactions, the closing
balances and the ``document`` directive of the archived file.

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
* nothing is booked twice: ``(bank_account, bank_ref)`` is the key. Entries
  already in the books are left out of what ``extract`` returns (and counted
  as duplicates), so beangulp's similarity-based duplicate marking is not
  used: two payments of the same amount on the same day are two receipts.

One importer is one run: it remembers what it booked, so the files of one run
(taken in date order) each see the entries of the files before them. Any
problem raises :class:`importers.model.BadFile`, one line naming the file.
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
from beangulp import Importer

from importers import parse as api
from importers.booking import Booked, Originals, book_statement, document_entry, money_text, one_line, statement_date
from importers.model import BadFile, ParseResult, Statement
from ledger import conventions
from ledger.loader import load_books
from ledger.money import cents
from ledger.plugins.year_lock import locked_years

ZERO = Decimal(0)


def compact_account(value: str | None) -> str:
    """An account number as compared: no spaces, upper case."""
    return "".join((value or "").split()).upper()


# --- the books as an import sees them ------------------------------------------


@dataclass
class BooksState:
    """What booking needs of the books, kept up to date as statements are booked."""

    entries: list  # the books' entries this state was read from
    iban: str  # the bank account's, from its open directive
    gichd_ibans: frozenset[str]
    refs: set[tuple[str | None, str | None]]  # (bank_account, bank_ref) of every booked bank entry
    bank: list[tuple[datetime.date, Decimal]]  # every bank posting
    originals: Originals
    locked_years: frozenset[int]
    documents: set[str]  # the files of the document directives

    def balance_on(self, day: datetime.date) -> Decimal:
        """The bank balance at the end of ``day``."""
        return sum((amount for date, amount in self.bank if date <= day), ZERO)

    def last_date(self) -> datetime.date | None:
        return max((date for date, _ in self.bank), default=None)

    def record(self, statement: Statement, booked: Booked) -> None:
        """Count in what ``booked`` adds to the books."""
        account = compact_account(statement.account)
        for entry in booked.new:
            self.refs.add((account, entry.ref))
        for entry in booked.entries:
            if isinstance(entry, data.Transaction):
                self.refs.add((account, entry.meta[conventions.META_BANK_REF]))
                self.bank.extend((entry.date, p.units.number) for p in entry.postings if p.account == conventions.BANK)


def books_iban(entries: Iterable[Any]) -> str:
    """The IBAN on the bank account's open directive ("" when none)."""
    for entry in entries:
        if isinstance(entry, data.Open) and entry.account == conventions.BANK:
            return compact_account((entry.meta or {}).get(conventions.META_IBAN))
    return ""


def books_state(entries: list) -> BooksState:
    gichd: set[str] = set()
    refs: set[tuple[str | None, str | None]] = set()
    bank: list[tuple[datetime.date, Decimal]] = []
    documents: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Open) and entry.account == conventions.GICHD_CLEARING:
            gichd |= _ibans((entry.meta or {}).get("counterparty_iban"))
        elif isinstance(entry, data.Transaction):
            meta = entry.meta or {}
            if meta.get(conventions.META_BANK_REF):
                refs.add((compact_account(meta.get(conventions.META_ACCOUNT)), meta[conventions.META_BANK_REF]))
            bank.extend((entry.date, p.units.number) for p in entry.postings if p.account == conventions.BANK and p.units)
        elif isinstance(entry, data.Document):
            documents.add(entry.filename)
    return BooksState(
        entries=entries,
        iban=books_iban(entries),
        gichd_ibans=frozenset(gichd),
        refs=refs,
        bank=bank,
        originals=Originals(entries),
        locked_years=frozenset(locked_years(list(entries))),
        documents=documents,
    )


def _ibans(value: Any) -> set[str]:
    return {compact_account(v) for v in str(value or "").replace(",", " ").replace(";", " ").split() if v}


# --- files -------------------------------------------------------------------------


@dataclass(frozen=True)
class BankFile:
    """A bank file as read: its bytes (archived as they are) and what they hold."""

    path: str
    raw: bytes
    result: ParseResult

    @property
    def booked_entries(self) -> int:
        """The booked bank entries of its statements (camt.052 reports book nothing)."""
        return sum(len(s.booked_entries) for s in self.result.statements if s.kind != "report")


def read_bank_file(path: str) -> BankFile:
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise BadFile(path, "is a directory, not a bank file") from None
    except FileNotFoundError:
        raise BadFile(path, "no such file") from None
    except PermissionError:
        raise BadFile(path, "cannot be read (permission denied)") from None
    return BankFile(path, raw, api.parse_bytes(path, raw))


@dataclass
class BookedFile:
    """What one bank file gives: new entries, where it is archived, what happened to each line."""

    file: BankFile
    archive: str  # documents/<year>/<name>, ledger-relative
    archive_new: bool  # False: the same bytes are archived there already
    entries: list = field(default_factory=list)  # transactions and closing balances
    document: data.Document | None = None  # for the archived file, unless the books have it
    imported: int = 0
    duplicates: int = 0
    needs_review: int = 0
    unreconciled: int = 0
    identifications: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was read but not booked, and why

    def add(self, booked: Booked) -> None:
        self.entries.extend(booked.entries)
        self.imported += booked.imported
        self.duplicates += booked.duplicates
        self.needs_review += booked.needs_review
        self.unreconciled += booked.unreconciled
        self.identifications.extend(booked.identifications)


# --- checks --------------------------------------------------------------------------


def _label(st: Statement) -> str:
    return f"statement {st.id or '?'}"


def check_statement(path: str, st: Statement, iban: str) -> None:
    """The statement is for the account ``iban``, in CHF, and its balances reconcile."""
    if compact_account(st.account) != iban:
        raise BadFile(path, f"{_label(st)} is for account {st.account or 'unknown'}, not the ledger's {iban}")
    currency = st.currency or (st.opening.currency if st.opening else None)
    if currency and currency != conventions.CURRENCY:
        raise BadFile(path, f"{_label(st)} is in {currency}; the ledger's account is in {conventions.CURRENCY}")
    for entry in st.booked_entries:
        if entry.currency != conventions.CURRENCY:
            raise BadFile(path, f"{_label(st)}: entry {entry.ref or '?'} is in {entry.currency}, not {conventions.CURRENCY}")
    if st.balance_ok is False:
        total = st.opening.amount + sum((e.amount for e in st.booked_entries), ZERO)
        raise BadFile(
            path,
            f"{_label(st)}: balances do not reconcile: opening {money_text(st.opening.amount)} + entries "
            f"= {money_text(total)} CHF, closing says {money_text(st.closing.amount)} CHF "
            f"(difference {money_text(st.closing.amount - total)})",
        )


def check_continuity(path: str, st: Statement, booked: Booked, state: BooksState) -> None:
    """Does the statement continue the books? (see the module docstring)"""
    for entry in booked.new:
        if entry.booked.year in state.locked_years:
            raise BadFile(path, f"{_label(st)}: entry {entry.ref} is dated {entry.booked}, in signed-off year {entry.booked.year}")
    if not booked.new:
        return
    if st.closing is None:
        return  # a notification (camt.054) or CSV without balances: the month's statement reconciles it
    if st.opening is None:
        _continues_without_opening(path, st, booked, state)
        return
    first_new = min(e.booked for e in booked.new)
    day = max(first_new - datetime.timedelta(days=1), st.opening.date)
    before = [e for e in st.booked_entries if e.booked < first_new]
    ours = st.opening.amount + sum((e.amount for e in before), ZERO)
    if ours != state.balance_on(day):
        raise BadFile(path, _discontinuity(st, day, ours, bool(before), state))
    after = state.balance_on(st.closing.date) + sum((e.amount for e in booked.new if e.booked <= st.closing.date), ZERO)
    if after != st.closing.amount:
        raise BadFile(
            path,
            f"{_label(st)}: overlap mismatch: after booking it the ledger balance on {st.closing.date} would be "
            f"{money_text(after)} CHF, the statement closes with {money_text(st.closing.amount)} CHF — "
            "the books hold entries in this period that the statement does not (or the reverse)",
        )


def _continues_without_opening(path: str, st: Statement, booked: Booked, state: BooksState) -> None:
    """A statement with a closing but no readable opening balance imports only when
    the books' balance before its first new entry, plus its entries, is its closing balance."""
    first_new = min(e.booked for e in booked.new)
    before = state.balance_on(first_new - datetime.timedelta(days=1))
    after = before + sum((e.amount for e in booked.new if e.booked <= st.closing.date), ZERO)
    if cents(after) != cents(st.closing.amount):
        raise BadFile(
            path,
            f"{_label(st)} has no opening balance and does not continue the books: ledger balance "
            f"{money_text(before)} CHF + its entries = {money_text(after)} CHF, it closes with "
            f"{money_text(st.closing.amount)} CHF",
        )


def _discontinuity(st: Statement, day: datetime.date, ours: Decimal, entries_before: bool, state: BooksState) -> str:
    """Why the statement's balance on ``day`` (``ours``) is not the books': a gap, or a mismatch."""
    if not entries_before and not any(st.opening.date < d <= day for d, _ in state.bank):
        where = (
            f"ledger balance on {st.opening.date} is {money_text(state.balance_on(st.opening.date))} CHF, "
            f"statement opens with {money_text(st.opening.amount)} CHF"
        )
    else:
        where = f"ledger balance on {day} is {money_text(state.balance_on(day))} CHF, statement balance that day is {money_text(ours)} CHF"
    last = state.last_date()
    if last is None or last <= day:
        return f"{_label(st)}: gap: {where} — is a statement missing?"
    return f"{_label(st)}: does not match the books: {where} — is it out of order, or booked differently?"


def statement_order(st: Statement) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) of a statement: its balances' dates, else its entries'."""
    start = st.opening.date if st.opening else min((e.booked for e in st.booked_entries), default=datetime.date.max)
    end = st.closing.date if st.closing else max((e.booked for e in st.booked_entries), default=datetime.date.max)
    return start, end


def file_order(f: BankFile) -> tuple:
    """Files of one run are booked by the dates of their statements (then by path)."""
    dates = [statement_order(st) for st in f.result.statements]
    return (min(dates, default=(datetime.date.max, datetime.date.max)), f.path)


# --- the importer ----------------------------------------------------------------------


class IsuBankImporter(Importer):
    """The bank account of the books in ``ledger_dir``, as a beangulp importer.

    ``iban``: the bank account's IBAN (default: the one on the books' bank
    ``open`` directive). Receipts are identified with the books' registry and
    learned rules (``registry/``); ``on_receipt`` is called once per receipt
    identified (a progress bar).
    """

    def __init__(
        self,
        ledger_dir: str | Path,
        *,
        iban: str | None = None,
        on_receipt: Callable[[], None] | None = None,
    ):
        self.ledger_dir = Path(ledger_dir).resolve()
        self._iban = compact_account(iban) if iban else None
        self._on_receipt = on_receipt
        self._files: dict[str, BankFile] = {}
        self._archives: dict[str, tuple[str, bool]] = {}  # file -> (archive path, to be written)
        self._planned: dict[str, bytes] = {}  # archive path -> the bytes this run puts there
        self._state: BooksState | None = None
        self._attribute: Callable | None = None

    # -- beangulp's protocol

    @property
    def name(self) -> str:
        return f"isu.{self.iban or self.ledger_dir.name}"

    @property
    def iban(self) -> str:
        if self._iban is None:
            self._iban = books_iban(load_books(self.ledger_dir).entries)
        return self._iban

    def identify(self, filepath: str) -> bool:
        """A bank file with a statement of our account."""
        try:
            result = self.read(filepath).result
        except BadFile:
            return False
        return any(compact_account(s.account) == self.iban for s in result.statements)

    def account(self, filepath: str) -> data.Account:
        return conventions.BANK

    def date(self, filepath: str) -> datetime.date | None:
        return statement_date(self.read(filepath).result)

    def filename(self, filepath: str) -> str | None:
        return Path(filepath).name

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        """The new entries of the file and its ``document`` directive.

        ``existing``: the books' entries (beangulp's ``--existing``); when
        empty, the books in ``ledger_dir`` are loaded: the checks need them.
        """
        booked = self.book(filepath, existing)
        return booked.entries + ([booked.document] if booked.document else [])

    def deduplicate(self, entries: data.Entries, existing: data.Entries) -> None:
        """Nothing to mark: ``extract`` already left out what the books hold (by bank reference)."""

    # -- the steps, for isu-ledger import

    def read(self, filepath: str) -> BankFile:
        """The file, read and parsed once per run."""
        key = str(filepath)
        if key not in self._files:
            self._files[key] = read_bank_file(key)
        return self._files[key]

    def check(self, filepath: str) -> None:
        """Every statement of the file is for our account, in CHF, and reconciles."""
        f = self.read(filepath)
        for st in f.result.statements:
            if st.kind != "report":
                check_statement(f.path, st, self.iban)

    def archive_path(self, filepath: str) -> tuple[str, bool]:
        """``documents/<year>/<name>`` and whether it must be written (False: the
        same bytes are archived there already); a hash suffix when the name is
        taken by other bytes, in the books or by another file of this run."""
        key = str(filepath)
        if key not in self._archives:
            f = self.read(filepath)
            self._archives[key] = self._free_archive_path(f)
            self._planned[self._archives[key][0]] = f.raw
        return self._archives[key]

    def book(self, filepath: str, existing: data.Entries | None = None) -> BookedFile:
        """Check and book the file on the books (``existing``) and what this run booked before."""
        f = self.read(filepath)
        self.check(filepath)
        state = self._books(existing)
        if self._attribute is None:
            self._attribute = _identification(self.ledger_dir)
        archive, archive_new = self.archive_path(filepath)
        out = BookedFile(f, archive, archive_new)
        for st in sorted(f.result.statements, key=statement_order):
            if st.kind == "report":
                out.notes.append(f"{_label(st)}: camt.052 intraday report: nothing booked")
                continue
            booked = book_statement(
                f.result,
                st,
                attribute=self._identify_receipt,
                archive_path=archive,
                existing_refs=state.refs,
                originals=state.originals,
                locked_years=state.locked_years,
                gichd_ibans=state.gichd_ibans,
            )
            check_continuity(f.path, st, booked, state)
            state.record(st, booked)
            out.add(booked)
        if out.imported:
            document = document_entry(archive, max(e.date for e in out.entries), relative_to=conventions.TXN_DIR)
            if str((self.ledger_dir / archive).resolve()) not in state.documents:
                out.document = document
        return out

    # -- inside

    def _books(self, existing: data.Entries | None) -> BooksState:
        """The state of the books, read once per run from ``existing`` (else the books loaded)."""
        entries = existing or load_books(self.ledger_dir).entries
        if self._state is None or self._state.entries is not entries:
            self._state = books_state(entries)
        return self._state

    def _identify_receipt(self, detail, entry):
        if self._on_receipt is not None:
            self._on_receipt()
        return self._attribute(detail, entry)

    def _free_archive_path(self, f: BankFile) -> tuple[str, bool]:
        day = statement_date(f.result) or datetime.date.today()
        # One line, as the entries' ``statement`` metadata that names it.
        name = PurePosixPath(one_line(Path(f.path).name) or "statement")
        base = f"{conventions.DOCUMENTS_DIR}/{day.year}"
        candidates = [f"{base}/{name}"]
        digest = hashlib.sha256(f.raw).hexdigest()
        suffixes = "".join(name.suffixes)
        stem = name.name[: len(name.name) - len(suffixes)] if suffixes else name.name
        candidates += [f"{base}/{stem}-{digest[:n]}{suffixes}" for n in (8, 16, 64)]
        for rel in candidates:
            taken = self._planned.get(rel)
            if taken is None:
                target = self.ledger_dir / rel
                taken = target.read_bytes() if target.is_file() else None
                if taken is None:
                    return rel, True
            if taken == f.raw:
                return rel, False
        raise BadFile(f.path, "cannot find a free archive name")  # 2**256 collisions away


def _identification(ledger_dir: Path) -> Callable:
    """``attribute(detail, entry)`` with the books' registry and learned rules."""
    from importers.identify import identify
    from ledger.registry import Registry
    from importers.learned_rules import load_rules
    from ledger.rules import index_rules

    registry = Registry.load(ledger_dir)
    rules = index_rules(load_rules(ledger_dir))

    def attribute(detail, entry):
        return identify(detail, entry, registry=registry, rules=rules, booking_date=entry.booked)

    return attribute
