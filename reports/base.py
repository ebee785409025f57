"""What every report shares: its header and the as-of date.

Receipts are read through ``ledger.receipts`` (re-exported here): the one
rule for what a State Party has paid for a work-plan year.
``reports.bql.RECEIVED_BY_STATE`` is the same rule as a BQL query.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount.core import data

from ledger import conventions
from ledger import fingerprint as fp
from ledger.money import rounded
from ledger.plugins.year_lock import locked_years
from ledger.receipts import contribution_postings, is_recognition, wp_year_of  # noqa: F401  (re-exported)

from reports.model import AUDITED, PRELIMINARY, Audit, ReportHeader


def ratio(numerator: Decimal, denominator: Decimal, places: str = "0.01") -> Decimal | None:
    """numerator / denominator rounded half up, or None when the denominator is zero."""
    if not denominator:
        return None
    return rounded(numerator / denominator, places)


def year_end(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


def default_as_of(entries: list, year: int) -> datetime.date:
    """The latest date in the books for ``year`` (the default of ``--as-of``).

    A signed-off year is reported as at 31 December. Otherwise the latest
    transaction, balance or custom entry dated in the year; a year with no
    entries yet is reported as at its first day.
    """
    if year in locked_years(entries):
        return year_end(year)
    latest = None
    for entry in entries:
        # A balance assertion dated D states the closing balance of the day before.
        day = entry.date - datetime.timedelta(days=1) if isinstance(entry, data.Balance) else entry.date
        if day.year == year and isinstance(entry, (data.Transaction, data.Balance, data.Custom)):
            if latest is None or day > latest:
                latest = day
    return latest or datetime.date(year, 1, 1)


def received_to(entries: list, as_of_given: datetime.date | None, as_of: datetime.date) -> datetime.date:
    """Up to when receipts for a work-plan year count (policy 4): a receipt for
    a year still open counts for it whenever it arrives, and one for a closed
    year carries the current year (``designated_year``) - so without an
    explicit ``--as-of`` every receipt in the books counts, not only those by
    the year's 31 December. With an explicit date, that date."""
    if as_of_given is not None:
        return as_of
    last = max((e.date for e in entries if isinstance(e, data.Transaction)), default=as_of)
    return max(as_of, last)


def header(books, report: str, year: int, as_of: datetime.date | None, commit: str | None,
           state_party: str | None = None) -> ReportHeader:
    """The header: audited if the year is signed off (then as at 31 December,
    with the auditor, the opinion date and whether the fingerprint still holds)."""
    locked = locked_years(books.entries)
    sign_off = locked.get(year)
    audit = None
    if sign_off is not None:
        meta = sign_off.entry.meta or {}
        audit = Audit(
            auditor=sign_off.auditor,
            opinion_date=sign_off.opinion_date,
            fingerprint=sign_off.fingerprint,
            fingerprint_ok=fp.year_fingerprint(books.entries, year) == sign_off.fingerprint,
            opinion=str(meta.get("opinion") or "unmodified"),
            firm=str(meta["on_behalf_of"]) if meta.get("on_behalf_of") else None,
        )
    if as_of is None:
        as_of = default_as_of(books.entries, year)
    return ReportHeader(
        report=report,
        year=year,
        as_of=as_of,
        status=AUDITED if audit is not None and as_of >= year_end(year) else PRELIMINARY,
        currency=conventions.CURRENCY,
        ledger_sha256=books.fingerprint,
        commit=commit,
        audit=audit,
        state_party=state_party,
    )


def ledger_commit(ledger_dir: Path | str) -> str | None:
    """The git HEAD of the ledger directory (None outside git)."""
    from ledger.store import gitrepo

    return gitrepo.head(ledger_dir)


def display_name(ledger_dir: Path | str | None, iso3: str) -> str:
    from ledger.registry import Registry

    try:
        return Registry.load(Path(ledger_dir) if ledger_dir else None).display_name(iso3)
    except (KeyError, ValueError):
        return iso3
