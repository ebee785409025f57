"""The letters of a work-plan year, as data: one acknowledgement per receipt,
one reminder per overdue pledge.

A **receipt** is an attributed contribution posting for the year
(``ledger.receipts``, as every report counts them) that credits the State:
not the year-end recognition of an advance (the same money again), not a
reversal, and not a payment the bank reversed afterwards (its ``bank_ref``
is named by a reversal's ``reversal_of``). Its key is the bank reference and
the State (a batch booking credits several States under one reference).

An **overdue pledge** is a pledge of a State whose pledges for the year are
still outstanding (``ledger.finance.pledges.pledge_status``, the figure of
the funding outlook) and whose expected date is before the as-of date, with
part of it unpaid in its own currency: what the State paid in a currency is
set against its pledges in that currency in the order they were expected.
Its key is the pledge id.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from ledger import conventions
from ledger.finance.pledges import Pledge, instructed, pledge_status, pledges, receipts_by_state
from ledger.money import ZERO, cents
from ledger.registry import DEFAULT_LANGUAGE, Registry

from reports.base import contribution_postings, default_as_of, is_recognition
from reports.letters.bank import BankDetails, bank_details

ACKNOWLEDGEMENT, REMINDER = "acknowledgement", "reminder"
KINDS = (ACKNOWLEDGEMENT, REMINDER)


@dataclass(frozen=True)
class Letter:
    """What one letter says, before it is worded in a language."""

    kind: str  # ACKNOWLEDGEMENT | REMINDER
    key: str  # receipt: "BANKREF/ISO3"; reminder: the pledge id
    state_party: str
    language: str  # en | fr | es (registry; English when not set)
    wp_year: int
    work_plan: str
    amount: Decimal  # receipt: CHF credited (gross); reminder: still due, in ``currency``
    currency: str
    date: datetime.date  # receipt: booked; reminder: expected
    reference: str  # receipt: the bank reference; reminder: the payment reference to write
    bank: BankDetails
    instructed: tuple[Decimal, str] | None = None  # receipt: amount and currency the State instructed
    pledged: Decimal | None = None  # reminder: the amount pledged (in ``currency``)
    pledged_on: datetime.date | None = None
    note: str | None = None  # reminder: the pledge's note (e.g. the note verbale)

    @property
    def file_stem(self) -> str:
        """``acknowledgement-2026-DEU-UBS2026...``: safe as a file name."""
        safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in self.key.split("/")[0])
        return f"{self.kind}-{self.wp_year}-{self.state_party}-{safe[:60]}"


def payment_reference(year: int) -> str:
    """What States are asked to write on their payment (the ISU's bank instructions)."""
    return f"ISU {year} Core Work Plan"


def language_of(registry: Registry, iso3: str) -> str:
    contributor = registry.get(iso3)
    return (contributor.language if contributor else None) or DEFAULT_LANGUAGE


def _instructed(meta: dict) -> tuple[Decimal, str] | None:
    """The amount and currency the State instructed, when not CHF."""
    found = instructed(meta)
    return found if found and found[1] != conventions.CURRENCY else None


def _reversed_refs(entries: list) -> set[str]:
    """Bank references of payments a later entry reversed."""
    refs = set()
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        for meta in (entry.meta, *(p.meta for p in entry.postings)):
            if (meta or {}).get(conventions.META_REVERSAL_OF):
                refs.add(str(meta[conventions.META_REVERSAL_OF]))
    return refs


def receipt_letters(books, year: int, registry: Registry, as_of: datetime.date | None = None) -> list[Letter]:
    """One acknowledgement per receipt for work-plan ``year`` (module docstring), by date."""
    reversed_refs = _reversed_refs(books.entries)
    bank = bank_details(books.entries)
    out: dict[str, Letter] = {}
    for entry, posting, state, wp_year in contribution_postings(books.entries, as_of):
        amount = -posting.units.number
        ref = (entry.meta or {}).get(conventions.META_BANK_REF)
        if wp_year != year or amount <= 0 or is_recognition(entry) or not ref or ref in reversed_refs:
            continue
        meta = posting.meta or {}
        if (entry.meta or {}).get(conventions.META_REVERSAL_OF) or meta.get(conventions.META_REVERSAL_OF):
            continue
        key = f"{ref}/{state}"
        previous = out.get(key)
        out[key] = Letter(
            kind=ACKNOWLEDGEMENT, key=key, state_party=state, language=language_of(registry, state),
            wp_year=year, work_plan=str(meta.get(conventions.META_WORK_PLAN) or conventions.DEFAULT_WORK_PLAN),
            amount=cents(amount + (previous.amount if previous else ZERO)), currency=conventions.CURRENCY,
            date=entry.date, reference=str(ref), bank=bank, instructed=_instructed(meta),
        )
    return sorted(out.values(), key=lambda letter: (letter.date, letter.key))


def _unpaid(mine: list[Pledge], paid: dict[str, Decimal]) -> list[tuple[Pledge, Decimal]]:
    """Each pledge with what is still due on it in its currency: the paid
    amount of a currency set against its pledges in the order expected."""
    left = dict(paid)
    out = []
    for p in sorted(mine, key=lambda p: (p.expected or datetime.date.max, p.pledge_id)):
        covered = min(left.get(p.currency, ZERO), p.amount)
        left[p.currency] = left.get(p.currency, ZERO) - covered
        out.append((p, cents(p.amount - covered)))
    return out


def reminder_letters(books, year: int, registry: Registry, as_of: datetime.date | None = None) -> list[Letter]:
    """One reminder per overdue pledge of work-plan ``year`` as of ``as_of``
    (default: the latest date in the books for that year, as the outlook)."""
    as_of = as_of or default_as_of(books.entries, year)
    owing = {s.state_party for s in pledge_status(books.entries, year, as_of)
             if s.pledged_original and (s.outstanding is None or s.outstanding > 0)}
    year_pledges = [p for p in pledges(books.entries, year) if p.date <= as_of and p.state_party in owing]
    got = receipts_by_state(books.entries, year, as_of)
    bank = bank_details(books.entries)
    out = []
    for state in sorted(owing):
        paid_state = got.get(state)
        paid: dict[str, Decimal] = {}
        if paid_state is not None:
            foreign = sum((chf for _x, chf in paid_state.by_currency.values()), ZERO)
            paid = {conventions.CURRENCY: paid_state.chf - foreign, **{c: x for c, (x, _chf) in paid_state.by_currency.items()}}
        for pledge, due in _unpaid([p for p in year_pledges if p.state_party == state], paid):
            if due <= 0 or pledge.expected is None or pledge.expected >= as_of:
                continue
            out.append(Letter(
                kind=REMINDER, key=pledge.pledge_id, state_party=state, language=language_of(registry, state),
                wp_year=year, work_plan=pledge.work_plan, amount=due, currency=pledge.currency, date=pledge.expected,
                reference=payment_reference(year), bank=bank, pledged=pledge.amount, pledged_on=pledge.date,
                note=pledge.note,
            ))
    return sorted(out, key=lambda letter: (letter.date, letter.key))


def year_letters(books, year: int, kind: str, registry: Registry, as_of: datetime.date | None = None) -> list[Letter]:
    """The letters of ``kind`` for work-plan ``year``."""
    if kind == ACKNOWLEDGEMENT:
        return receipt_letters(books, year, registry, as_of)
    if kind == REMINDER:
        return reminder_letters(books, year, registry, as_of)
    raise ValueError(f"{kind}: not a kind of letter ({', '.join(KINDS)})")
