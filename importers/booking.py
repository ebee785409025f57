"""Bank entries -> Beancount entries (the booking contract, docs/booking.md).

Pure: statements in, ``Transaction``/``Balance``/``Document`` entries out;
nothing is read from or written to the ledger here. What the booking needs to
know about the ledger comes in as arguments: the references already booked
(``existing_refs``), the earlier receipts a reversal may cancel
(``originals``), the signed-off years (``locked_years``) and the GICHD's
account numbers (``gichd_ibans``). Identification is injected
(``attribute(detail, entry) -> Attribution``) so booking can be tested
without a registry.

Why the rules are what they are:

* One transaction per *booked* entry (never PDNG/INFO, nothing from a
  camt.052): the ledger mirrors the bank statement line for line, and the
  ``(bank_account, bank_ref)`` pair on each is the deduplication key.
* A batch gets one contribution posting per ``TxDtls`` only when the detail
  amounts provably make up the entry (same currency, sum equal to the entry,
  net or gross of the deducted charges). Anything else would book amounts the
  bank never credited, so the entry goes whole to review.
* Deducted charges are grossed up (the State paid the gross); when no charge
  is reported we book what the bank credited and never recompute from the
  instructed amount and rate, which real files do not always reconcile.
* A wrong attribution is worse than a review item: whatever ``attribute``
  doubts goes to ``Income:Contributions:Unidentified`` with flag ``!`` and
  its suggestion as metadata.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from beancount.core import data
from beancount.core.amount import Amount

from importers.model import Detail, Entry, ParseResult, Statement
from ledger import conventions
from ledger.money import padded as money
from ledger.names import normalise

ZERO = Decimal(0)

GICHD_NAMES = (
    "gichd",
    "geneva international centre for humanitarian demining",
    "centre international de deminage humanitaire",
)
_FEE_TEXT = re.compile(
    r"\b(fee|fees|charge|charges|commission|spesen|gebuhr|gebuehr|gebuhren|gebuehren|frais|"
    r"kontofuhrung|kontofuehrung|maintenance)\b"
)
_INTEREST_TEXT = re.compile(r"\b(interest|interets|interet|zins|zinsen|habenzins|sollzins)\b")
_REF_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{3,}")

Attribute = Callable[[Detail, Entry], Any]


# --- results -------------------------------------------------------------------


@dataclass
class Booked:
    """What one statement gives: new entries and what happened to each line."""

    entries: list = field(default_factory=list)  # Transactions, then the Balance
    imported: int = 0  # transactions booked
    duplicates: int = 0  # booked bank entries already in the ledger (or twice in the file)
    needs_review: int = 0  # receipts this statement adds to the review queue (suspense postings)
    unreconciled: int = 0  # transactions left on the clearing account to be reconciled by hand
    new: list[Entry] = field(default_factory=list)  # the bank entries booked, in booking order
    identifications: list[dict] = field(default_factory=list)  # per receipt posting, for previews
    _queued: dict[str, int] = field(default_factory=dict, repr=False)  # bank_ref -> review items it added

    def add(self, entry: Entry, ref: str, txn: data.Transaction, reversal_of: str | None) -> None:
        """Count in the transaction booked for ``entry`` (bank reference ``ref``).

        The review queue (importers.review) lists each suspense posting,
        except those of an unidentified receipt and its reversal, which
        cancel out.
        """
        self.entries.append(txn)
        self.new.append(entry)
        self.imported += 1
        unidentified = sum(p.account == conventions.UNIDENTIFIED for p in txn.postings)
        if reversal_of and unidentified:
            self.needs_review -= self._queued.pop(reversal_of, 0)
        elif unidentified:
            self._queued[ref] = unidentified
            self.needs_review += unidentified
        self.unreconciled += any(p.account == conventions.UNRECONCILED for p in txn.postings)


# --- the lookup of earlier receipts (reversals) --------------------------------


@dataclass
class _Receipt:
    txn: data.Transaction
    bank_ref: str
    bank_amount: Decimal
    gross: Decimal
    payer_account: str
    payer: str


class Originals:
    """Earlier receipts a reversal may cancel, searchable by reference,
    payer account or payer name, and amount.

    Fed with the ledger's transactions and, as booking goes on, with the
    receipts booked from the same statement and call. A receipt reversed once
    is not offered again.
    """

    def __init__(self, entries: Iterable[Any] = (), bank_account: str = conventions.BANK):
        self.bank_account = bank_account
        self._by_ref: dict[str, _Receipt] = {}
        self._reversed: set[str] = set()
        for entry in entries:
            self.add(entry)

    def add(self, entry: Any) -> None:
        if not isinstance(entry, data.Transaction):
            return
        meta = entry.meta or {}
        ref = meta.get(conventions.META_BANK_REF)
        if meta.get(conventions.META_REVERSAL_OF):
            self._reversed.add(meta[conventions.META_REVERSAL_OF])
            return
        if not ref:
            return
        bank = [p for p in entry.postings if p.account == self.bank_account and p.units]
        if len(bank) != 1 or bank[0].units.number <= 0:
            return
        contribution = [p for p in entry.postings if _is_receipt_account(p.account)]
        if not contribution:
            return
        first = contribution[0].meta or {}
        self._by_ref[ref] = _Receipt(
            txn=entry,
            bank_ref=ref,
            bank_amount=bank[0].units.number,
            gross=-sum((p.units.number for p in contribution), ZERO),
            payer_account=_norm_account(first.get(conventions.META_PAYER_ACCOUNT)),
            payer=normalise(first.get(conventions.META_PAYER) or ""),
        )

    def find(self, entry: Entry, detail: Detail | None) -> data.Transaction | None:
        """The receipt ``entry`` (a debit marked as reversal) takes back, or None.

        First a bank reference quoted in the texts; else the latest receipt
        from the same payer account (or, without one, payer name) for the
        same amount, net or gross.
        """
        amount = -entry.amount
        texts = [entry.text]
        if detail is not None:
            texts += [detail.remittance, detail.text, detail.end_to_end_id or ""]
        quoted = self._quoted(" ".join(texts), amount)
        if quoted is not None or detail is None:
            return quoted
        return self._latest_from_payer(detail, amount, entry.booked)

    def _open(self, receipt: _Receipt, amount: Decimal) -> bool:
        """Not reversed yet, and ``amount`` is what it credited or its gross."""
        return receipt.bank_ref not in self._reversed and amount in (receipt.bank_amount, receipt.gross)

    def _quoted(self, text: str, amount: Decimal) -> data.Transaction | None:
        """The receipt whose bank reference ``text`` quotes, for ``amount``."""
        for token in _REF_TOKEN.findall(text):
            receipt = self._by_ref.get(token)
            if receipt is not None and self._open(receipt, amount):
                return receipt.txn
        return None

    def _latest_from_payer(self, detail: Detail, amount: Decimal, booked: datetime.date | None) -> data.Transaction | None:
        """The latest receipt for ``amount`` up to ``booked`` from the payer's account, else (without one) name."""
        account = _norm_account(detail.payer_account)
        payer = normalise(detail.payer or "")
        if account:
            same_payer = [r for r in self._by_ref.values() if r.payer_account == account]
        elif payer:
            same_payer = [r for r in self._by_ref.values() if r.payer == payer]
        else:
            return None
        candidates = [r for r in same_payer if self._open(r, amount) and r.txn.date <= (booked or r.txn.date)]
        if not candidates:
            return None
        return max(candidates, key=lambda r: r.txn.date).txn

    def mark_reversed(self, bank_ref: str) -> None:
        self._reversed.add(bank_ref)


def _is_receipt_account(account: str) -> bool:
    return conventions.is_contribution_account(account) or account == conventions.UNIDENTIFIED


def _norm_account(value: str | None) -> str:
    return "".join((value or "").split()).upper()


# --- small helpers ----------------------------------------------------------------


def money_text(value: Decimal) -> str:
    """An amount as the bank gave it (``ledger.money.padded``), as text."""
    return str(money(value))


def synthetic_ref(statement: Statement, entry: Entry, index: int) -> str:
    """A stable reference for an entry the bank gave none (some MT940/CSV).

    Built from what identifies the line on the statement, so a re-import of
    the same file finds it again.
    """
    parts = [
        statement.account or "",
        str(entry.booked),
        str(entry.amount),
        entry.text,
        *(f"{d.payer}|{d.remittance}|{d.amount}" for d in entry.details),
        str(index),
    ]
    return "H" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:15].upper()


def _detail_charges(detail: Detail) -> Decimal:
    return abs(detail.charges) if detail.charges else ZERO


def _has_counterparty(detail: Detail | None) -> bool:
    return bool(detail and (detail.payer or detail.payer_account))


def _texts(entry: Entry, detail: Detail | None) -> str:
    parts = [entry.text]
    if detail is not None:
        parts += [detail.remittance, detail.text]
    return normalise(" ".join(p for p in parts if p))


def _bank_codes(entry: Entry, detail: Detail | None) -> set[str]:
    codes = set()
    for code in (entry.bank_code, detail.bank_code if detail else None):
        if code:
            codes.update(code.upper().split("/"))
    return codes


def is_gichd(detail: Detail | None, gichd_ibans: Collection[str]) -> bool:
    """A payment to (or from) the GICHD: by creditor name or a known IBAN."""
    if detail is None:
        return False
    if detail.payer_account and _norm_account(detail.payer_account) in gichd_ibans:
        return True
    name = normalise(detail.payer or "")
    return any(name == n or name.startswith(n + " ") for n in GICHD_NAMES)


def is_bank_fee(entry: Entry, detail: Detail | None) -> bool:
    if _has_counterparty(detail):
        return False
    return "CHRG" in _bank_codes(entry, detail) or bool(_FEE_TEXT.search(_texts(entry, detail)))


def is_interest(entry: Entry, detail: Detail | None) -> bool:
    if _has_counterparty(detail):
        return False
    return "INTR" in _bank_codes(entry, detail) or bool(_INTEREST_TEXT.search(_texts(entry, detail)))


# Line breaks (\n, \r, U+0085, U+2028, U+2029, \x0b, \x0c, \x1c-\x1e) and other
# control characters: none may reach a ledger line (docs/booking.md, "Bank text").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Bank text as ledger text: control characters and line or paragraph
    separators become spaces, runs of white space one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _one_line_meta(meta: dict | None) -> dict | None:
    if not meta:
        return meta
    return {key: one_line(value) if isinstance(value, str) else value for key, value in meta.items()}


def _posting(account: str, number: Decimal, meta: dict | None = None) -> data.Posting:
    return data.Posting(account, Amount(money(number), conventions.CURRENCY), None, None, None, meta or None)


def _party_meta(detail: Detail | None, entry: Entry) -> dict:
    """payer, payer_account, ultimate_payer, remittance, instructed, rate, charges."""
    meta: dict[str, Any] = {}
    if detail is None:
        if entry.text:
            meta[conventions.META_REMITTANCE] = entry.text
        return meta
    if detail.payer:
        meta[conventions.META_PAYER] = detail.payer
    if detail.payer_account:
        meta[conventions.META_PAYER_ACCOUNT] = detail.payer_account
    if detail.ultimate_payer:
        meta[conventions.META_ULTIMATE_PAYER] = detail.ultimate_payer
    remittance = detail.remittance or detail.text or entry.text
    if remittance:
        meta[conventions.META_REMITTANCE] = remittance
    if detail.instructed is not None and detail.instructed.currency != conventions.CURRENCY:
        meta[conventions.META_INSTRUCTED] = f"{money_text(detail.instructed.amount)} {detail.instructed.currency}"
    if detail.rate is not None:
        meta[conventions.META_RATE] = str(detail.rate)
    return meta


# --- attribution -> posting ---------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    posting: data.Posting
    flagged: bool
    year: int | None  # the wp_year tagged, None when unidentified


def _place_attribution(
    attribution: Any,
    number: Decimal,
    base_meta: dict,
    booking_date: datetime.date,
    locked_years: Collection[int],
) -> _Placed:
    """The contribution posting of ``number`` (negative for a receipt) per
    the attribution: income of its work plan, the advance liability, or the
    suspense account with the suggestion."""
    state = getattr(attribution, "state_party", None)
    year = getattr(attribution, "wp_year", None)
    why = getattr(attribution, "why", "") or ""
    confidence = getattr(attribution, "confidence", None)
    if getattr(attribution, "needs_review", True) or not state or year is None:
        meta = dict(base_meta)
        suggestion = getattr(attribution, "suggestion", None)
        suggested_year = getattr(attribution, "suggested_year", None)
        if suggestion:
            meta["suggest_state_party"] = suggestion
            conflict = getattr(attribution, "conflict", None)
            if conflict:
                meta[conventions.META_SUGGEST_CONFLICT] = conflict
        if suggested_year is not None:
            meta["suggest_year"] = Decimal(int(suggested_year))
        if confidence is not None:
            meta[conventions.META_CONFIDENCE] = Decimal(confidence)
        if why:
            meta[conventions.META_WHY] = why
        return _Placed(_posting(conventions.UNIDENTIFIED, number, meta), True, None)
    work_plan = getattr(attribution, "work_plan", None) or conventions.DEFAULT_WORK_PLAN
    return attributed_posting(
        state, int(year), work_plan, number, base_meta, booking_date, locked_years, why=why, confidence=confidence
    )


def attributed_posting(
    state_party: str,
    year: int,
    work_plan: str,
    number: Decimal,
    base_meta: dict,
    booking_date: datetime.date,
    locked_years: Collection[int],
    *,
    why: str = "",
    confidence: Any = None,
) -> _Placed:
    """An attributed contribution posting, placed by the year rules:
    a later year is an advance (liability); an earlier, signed-off year
    counts in the booking year with ``designated_year``."""
    booking_year = booking_date.year
    meta: dict[str, Any] = {
        conventions.META_STATE_PARTY: state_party,
        conventions.META_WORK_PLAN: work_plan,
    }
    wp_year = year
    if year < booking_year and year in locked_years:
        wp_year = booking_year
    meta[conventions.META_WP_YEAR] = Decimal(wp_year)
    if wp_year != year:
        meta[conventions.META_DESIGNATED_YEAR] = Decimal(year)
    meta.update(base_meta)
    if confidence is not None:
        meta[conventions.META_CONFIDENCE] = Decimal(confidence)
    if why:
        meta[conventions.META_WHY] = why
    account = conventions.ADVANCE if wp_year > booking_year else conventions.contribution_account(work_plan)
    return _Placed(_posting(account, number, meta), False, wp_year)


# --- one bank entry -------------------------------------------------------------


@dataclass
class _Context:
    attribute: Attribute
    originals: Originals
    locked_years: Collection[int]
    gichd_ibans: frozenset[str]
    identifications: list[dict]


def _split_details(entry: Entry) -> tuple[list[tuple[Detail, Decimal]], Decimal] | None:
    """For a batch: each detail with its counterpart amount (the negated
    gross), and the charges to book; None when the details do not provably
    make up the entry."""
    details = entry.details
    if entry.batch_count and entry.batch_count != len(details):
        return None
    if any(d.amount is None or d.currency != entry.currency for d in details):
        return None
    sign = 1 if entry.amount > 0 else -1
    detail_sum = sum((d.amount for d in details), ZERO)
    entry_charges = abs(entry.charges or ZERO)
    detail_charges = sum((_detail_charges(d) for d in details), ZERO)
    charges = entry_charges + detail_charges
    if detail_sum == entry.amount and not entry_charges:
        # Detail amounts are what was credited; each grossed up by its own charge.
        return [(d, -(d.amount + sign * _detail_charges(d))) for d in details], charges
    if detail_sum == entry.amount + sign * charges:
        # Detail amounts are the gross amounts sent; the charges were deducted from the entry.
        return [(d, -d.amount) for d in details], charges
    return None


class EntryBooking(NamedTuple):
    """How one bank entry is booked: the transaction's postings (bank first) and its header."""

    postings: list[data.Posting]
    flag: str  # "*", or "!" when a posting needs a person (review queue, reconciliation)
    tags: frozenset[str]  # #ISU-<wp_year> of each year a receipt funds
    payee: str | None
    narration: str
    reversal_of: str | None = None  # bank_ref of the receipt this entry takes back


def _book_entry(entry: Entry, ref: str, ctx: _Context) -> EntryBooking:
    """The booking of one bank entry, by its case in docs/booking.md."""
    first = entry.details[0] if entry.details else None
    if entry.amount > 0 and not entry.reversal and not (first and first.return_reason):
        return _book_credit(entry, ref, ctx)
    if entry.amount < 0 and entry.reversal:
        return _book_reversal(entry, first, ctx)
    return _book_other(entry, first, ctx)


def _book_credit(entry: Entry, ref: str, ctx: _Context) -> EntryBooking:
    """A credit (not a reversal, not a returned payment): a receipt, a batch of receipts, or interest."""
    details = entry.details
    single = details[0] if len(details) == 1 else None
    if len(details) > 1:
        return _book_batch(entry, ref, ctx)
    if is_interest(entry, single):
        return _booking(entry, [_posting(conventions.INTEREST, _gross(entry), _party_meta(single, entry))])
    if single is None:
        meta = _batch_meta(entry)
        meta[conventions.META_WHY] = "the bank gave no payment details for this credit"
        return _booking(entry, [_posting(conventions.UNIDENTIFIED, _gross(entry), meta)], flagged=True)
    placed = _receipt_posting(single, entry, _gross(entry), _party_meta(single, entry), ctx)
    return _booking(entry, [placed.posting], flagged=placed.flagged, tags=_year_tags([placed]))


def _book_batch(entry: Entry, ref: str, ctx: _Context) -> EntryBooking:
    """Several payments in one credit: one receipt posting per detail when their
    amounts make up the entry, else the whole entry to review."""
    details = entry.details
    narration = entry.text or f"batch of {len(details)} payments"
    split = _split_details(entry)
    if split is None:
        meta = _batch_meta(entry)
        meta[conventions.META_WHY] = (
            f"batch of {len(details)} payments whose amounts do not make up the entry "
            f"({money_text(entry.amount)} {entry.currency}): split it by hand"
        )
        posting = _posting(conventions.UNIDENTIFIED, _gross(entry), meta)
        return _booking(entry, [posting], flagged=True, narration=narration)
    parts, charges = split
    placed = []
    for d, number in parts:
        meta = _party_meta(d, entry)
        if d.detail_ref and d.detail_ref != ref:
            meta = {conventions.META_DETAIL_REF: d.detail_ref, **meta}
        placed.append(_receipt_posting(d, entry, number, meta, ctx))
    payers = {d.payer for d in details}
    return _booking(
        entry,
        [p.posting for p in placed],
        charges=charges,
        flagged=any(p.flagged for p in placed),
        tags=_year_tags(placed),
        payee=payers.pop() if len(payers) == 1 else None,
        narration=narration,
    )


def _book_reversal(entry: Entry, detail: Detail | None, ctx: _Context) -> EntryBooking:
    """A debit marked as reversal: the receipt it takes back, with opposite sign; Unidentified when not found."""
    original = ctx.originals.find(entry, detail)
    if original is None:
        meta = _party_meta(detail, entry) if detail else _batch_meta(entry)
        meta[conventions.META_WHY] = "reversal of a receipt that is not in the ledger"
        return _booking(entry, [_posting(conventions.UNIDENTIFIED, _gross(entry), meta)], flagged=True)
    reversal_of = original.meta[conventions.META_BANK_REF]
    ctx.originals.mark_reversed(reversal_of)
    postings = [_reversed(p, reversal_of) for p in original.postings if p.account != conventions.BANK]
    years = [(p.meta or {}).get(conventions.META_WP_YEAR) for p in postings if conventions.is_contribution_account(p.account)]
    return _booking(
        entry,
        postings,
        charges=ZERO,  # the original's charges are in its postings, reversed with them
        flagged=any(p.account == conventions.UNIDENTIFIED for p in postings),
        tags={conventions.year_tag(int(year)) for year in years if year is not None},
        payee=original.payee,
        reversal_of=reversal_of,
    )


def _reversed(posting: data.Posting, reversal_of: str) -> data.Posting:
    """A posting of the original receipt with opposite sign; receipt postings name the original."""
    meta = {k: v for k, v in (posting.meta or {}).items() if k not in ("filename", "lineno")}
    if _is_receipt_account(posting.account):
        meta[conventions.META_REVERSAL_OF] = reversal_of
    return _posting(posting.account, -posting.units.number, meta)


def _book_other(entry: Entry, detail: Detail | None, ctx: _Context) -> EntryBooking:
    """A debit, or a credit the bank marks as reversed or returned: a transfer to
    the GICHD, a bank fee, interest, else the clearing account to reconcile by hand."""
    whole = len(entry.details) <= 1  # one payment: its detail describes the entry
    gross = _gross(entry)
    if entry.amount < 0 and whole and is_gichd(detail, ctx.gichd_ibans):
        return _booking(entry, [_posting(conventions.GICHD_CLEARING, gross, _party_meta(detail, entry))])
    if entry.amount < 0 and whole and is_bank_fee(entry, detail):
        # The fee is the whole debit: no charges on top.
        return _booking(entry, [_posting(conventions.BANK_CHARGES, -entry.amount, _party_meta(detail, entry))], charges=ZERO)
    if whole and is_interest(entry, detail):
        return _booking(entry, [_posting(conventions.INTEREST, gross, _party_meta(detail, entry))])
    # Returns, debits to third parties, reversed debits coming back, anything else.
    meta = _party_meta(detail, entry) if whole else _batch_meta(entry)
    if detail is not None and detail.return_reason:
        meta[conventions.META_WHY] = f"returned payment (reason {detail.return_reason})"
    return _booking(entry, [_posting(conventions.UNRECONCILED, gross, meta)], flagged=True)


def _charges(entry: Entry) -> Decimal:
    """The charges the bank deducted from the entry, its own and its details'."""
    return abs(entry.charges or ZERO) + sum((_detail_charges(d) for d in entry.details), ZERO)


def _gross(entry: Entry) -> Decimal:
    """The counterpart of the entry: the negated gross (what was sent, before the charges)."""
    return -(entry.amount + _charges(entry))


def _year_tags(placed: Iterable[_Placed]) -> set[str]:
    return {conventions.year_tag(p.year) for p in placed if p.year is not None}


def _booking(
    entry: Entry,
    counterpart: list[data.Posting],
    *,
    charges: Decimal | None = None,
    flagged: bool = False,
    tags: Iterable[str] = (),
    payee: str | None = None,
    narration: str | None = None,
    reversal_of: str | None = None,
) -> EntryBooking:
    """The bank posting, the ``counterpart`` postings, then the deducted charges
    (``charges``; by default all the entry's). Payee and narration default to
    the single payment's payer and remittance (or the entry's text)."""
    single = entry.details[0] if len(entry.details) == 1 else None
    charges = _charges(entry) if charges is None else charges
    postings = [_posting(conventions.BANK, entry.amount), *counterpart]
    if charges:
        postings.append(_posting(conventions.BANK_CHARGES, charges))
    if not narration:
        narration = (single.remittance or single.text or entry.text) if single else entry.text
    return EntryBooking(
        postings,
        "!" if flagged else "*",
        frozenset(tags),
        payee or (single.payer if single else None),
        narration,
        reversal_of,
    )


def _batch_meta(entry: Entry) -> dict:
    """Metadata for an entry booked whole: the payers and texts of all its details."""
    meta: dict[str, Any] = {}
    payers = [d.payer for d in entry.details if d.payer]
    accounts = [d.payer_account for d in entry.details if d.payer_account]
    texts = [d.remittance or d.text for d in entry.details if d.remittance or d.text]
    if payers:
        meta[conventions.META_PAYER] = "; ".join(payers)
    if accounts:
        meta[conventions.META_PAYER_ACCOUNT] = "; ".join(accounts)
    remittance = "; ".join(texts) or entry.text
    if remittance:
        meta[conventions.META_REMITTANCE] = remittance
    return meta


def _receipt_posting(detail: Detail, entry: Entry, number: Decimal, meta: dict, ctx: _Context) -> _Placed:
    attribution = ctx.attribute(detail, entry)
    placed = _place_attribution(attribution, number, meta, entry.booked, ctx.locked_years)
    ctx.identifications.append(
        {
            "bank_ref": entry.ref,
            "date": entry.booked.isoformat(),
            "amount": money_text(-number),
            "payer": detail.payer,
            "remittance": detail.remittance,
            "state_party": getattr(attribution, "state_party", None),
            "wp_year": getattr(attribution, "wp_year", None),
            "needs_review": placed.flagged,
            "account": placed.posting.account,
            "suggestion": getattr(attribution, "suggestion", None),
            "conflict": getattr(attribution, "conflict", None),
            "confidence": str(getattr(attribution, "confidence", "")),
            "why": getattr(attribution, "why", ""),
        }
    )
    return placed


# --- one statement -------------------------------------------------------------------


def book_statement(
    result: ParseResult,
    statement: Statement,
    *,
    attribute: Attribute,
    archive_path: str,
    existing_refs: Collection[tuple[str, str]],
    originals: Originals | None = None,
    locked_years: Collection[int] = (),
    gichd_ibans: Collection[str] = (),
) -> Booked:
    """Book the new entries of one statement (see the module docstring).

    ``archive_path`` is the ledger-relative path of the archived file
    (``documents/2025/...``), written as ``statement`` metadata.
    ``existing_refs`` is not modified; references booked here are in
    ``Booked.new``. ``originals`` (if given) learns the receipts booked here,
    so a later statement of the same call can reverse them.
    """
    booked = Booked()
    if statement.kind == "report":
        return booked  # camt.052: intraday, never booked
    originals = originals if originals is not None else Originals()
    account = statement.account or ""
    ctx = _Context(
        attribute=attribute,
        originals=originals,
        locked_years=frozenset(locked_years),
        gichd_ibans=frozenset(_norm_account(i) for i in gichd_ibans),
        identifications=booked.identifications,
    )
    seen: set[str] = set()
    for index, entry in _in_booking_order(statement):
        ref = entry.ref or synthetic_ref(statement, entry, index)
        if (account, ref) in existing_refs or ref in seen:
            booked.duplicates += 1
            continue
        seen.add(ref)
        booking = _book_entry(entry, ref, ctx)
        meta = data.new_metadata(result.path, index + 1)
        meta[conventions.META_BANK_REF] = ref
        meta[conventions.META_ACCOUNT] = account
        meta[conventions.META_STATEMENT] = archive_path
        txn = _transaction(entry, ref, booking, meta)
        originals.add(txn)
        booked.add(entry, ref, txn, booking.reversal_of)
    if booked.imported and statement.closing is not None and statement.kind == "statement":
        booked.entries.append(balance_entry(result, statement))
    return booked


def _in_booking_order(statement: Statement) -> list[tuple[int, Entry]]:
    """The booked entries with their position in the file, by booking date (file order within a day)."""
    ordered = sorted(enumerate(statement.entries), key=lambda pair: (pair[1].booked or datetime.date.min, pair[0]))
    return [(index, entry) for index, entry in ordered if entry.is_booked]


def _transaction(entry: Entry, ref: str, booking: EntryBooking, meta: dict) -> data.Transaction:
    """The transaction of one booked entry; every bank text on one line."""
    if booking.reversal_of:
        meta[conventions.META_REVERSAL_OF] = booking.reversal_of
    return data.Transaction(
        _one_line_meta(meta),
        entry.booked,
        booking.flag,
        one_line(booking.payee or "") or None,
        one_line(booking.narration or ""),
        booking.tags,
        frozenset({conventions.bank_link(ref)}),
        [posting._replace(meta=_one_line_meta(posting.meta)) for posting in booking.postings],
    )


def balance_entry(result: ParseResult, statement: Statement) -> data.Balance:
    """The closing balance, asserted at the start of the day after the closing date."""
    closing = statement.closing
    meta = data.new_metadata(result.path, 0)
    meta[conventions.META_ACCOUNT] = one_line(statement.account or "")
    return data.Balance(
        meta,
        closing.date + datetime.timedelta(days=1),
        conventions.BANK,
        Amount(money(closing.amount), closing.currency),
        None,
        None,
    )


def document_entry(archive_path: str, date: datetime.date, *, relative_to: str = "") -> data.Document:
    """The ``document`` directive for an archived bank file.

    Beancount resolves a document's path against the directory of the file
    that holds the directive; ``relative_to`` is that file's ledger-relative
    directory (``txns`` for ``txns/2025.beancount``), so the written path
    finds ``documents/...`` from there.
    """
    filename = os.path.relpath(archive_path, relative_to or ".") if relative_to else archive_path
    return data.Document(
        data.new_metadata(archive_path, 0), date, conventions.BANK, filename, frozenset(), frozenset()
    )


def statement_date(result: ParseResult) -> datetime.date | None:
    """The date a file speaks for: its latest closing date, else its latest booking date."""
    dates = [s.closing.date for s in result.statements if s.closing is not None]
    if not dates:
        dates = [e.booked for s in result.statements for e in s.entries if e.booked]
    return max(dates) if dates else None
