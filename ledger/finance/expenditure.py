"""The host's (GICHD) expenditure report, and its clearing against transfers.

The GICHD pays the ISU's costs and reports them per budget line; the ISU
transfers cash to the GICHD. The transfers seen on the bank statement are
booked to ``Assets:Clearing:GICHD`` (cash held by the host, not yet spent);
the report, imported from Excel, moves each reported cost from the clearing
account to its budget-line expense account::

    2025-01-31 * "GICHD" "Staff costs January 2025"
      isu_kind: "expenditure"
      gichd_ref: "EXP-2025-0001"
      source: "documents/expenditure/gichd-2025-q1.xlsx"
      Expenses:Budget:Staff     58000.00 CHF
      Assets:Clearing:GICHD    -58000.00 CHF

So expense is what was *spent*, never what was transferred, and the balance
of the clearing account is at any date the cash the host holds for the ISU
(positive) or has pre-financed (negative). ``clearing`` shows it per month:
transferred vs reported, and the difference.

The report's ``Reference`` is the host's document number: a row whose
reference is already booked with the same date, line and amount is a
duplicate (re-importing a report adds nothing); with other values it is an
error. A negative amount is a credit (a refund or correction by the host).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath

from beancount.core import data
from beancount.core.amount import Amount

from ledger import conventions
from ledger.finance.budgets import budget_accounts, line_account
from ledger.finance.workbooks import Column, ExcelErrors, Template, raise_errors, read_rows
from ledger.money import ZERO, grouped

PAYEE = "GICHD"
META_GICHD_REF = "gichd_ref"
META_SOURCE = "source"
ARCHIVE_DIR = f"{conventions.DOCUMENTS_DIR}/expenditure"

TEMPLATE = Template(
    sheet="Expenditure",
    title="GICHD expenditure report for the ISU (one row per cost, CHF)",
    columns=(
        Column("date", "Date", "date", help="date of the cost (YYYY-MM-DD)", example="2026-01-31", width=12),
        Column("line", "Budget line", "text", help="a budget line: " + ", ".join(conventions.BUDGET_LINES), example="Staff", width=16),
        Column("description", "Description", "text", help="what was paid", example="Staff costs January 2026", width=40),
        Column("amount", "Amount", "signed_money", help="CHF; negative for a credit or refund", example=58000, width=14),
        Column("reference", "Reference", "text", help="the GICHD's document number, unique per cost", example="EXP-2026-0001", width=18),
    ),
    notes=(
        "One row per cost reported by the GICHD. Reference must be unique (it makes re-imports idempotent).",
        "Upload the filled-in file on the Uploads page of the ISU ledger (preview first). Any bad row refuses the whole file.",
        "Expenditure is charged to the budget-line expense account and cleared against the transfers to the GICHD.",
    ),
    choices={"line": conventions.BUDGET_LINES},
)


@dataclass(frozen=True)
class ClearingPeriod:
    """One month of the GICHD clearing account."""

    period: str  # "YYYY-MM"
    transferred: Decimal  # cash sent to the GICHD (net of anything returned)
    reported: Decimal  # expenditure the GICHD reported
    difference: Decimal  # transferred - reported
    balance: Decimal  # clearing balance at the end of the period


@dataclass
class ExpenditurePlan:
    entries: list[data.Transaction] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    archive: tuple[str, bytes] | None = None


def booked_refs(entries: Iterable) -> dict[str, data.Transaction]:
    """Expenditure already booked, by GICHD reference."""
    return {
        e.meta[META_GICHD_REF]: e
        for e in entries
        if isinstance(e, data.Transaction) and (e.meta or {}).get(META_GICHD_REF)
    }


def expenditure_entry(
    date: datetime.date, account: str, description: str, amount: Decimal, reference: str, source: str | None
) -> data.Transaction:
    meta = data.new_metadata("<isu-ledger expenditure>", 0)
    meta[conventions.META_KIND] = "expenditure"
    meta[META_GICHD_REF] = reference
    if source:
        meta[META_SOURCE] = source
    units = Amount(amount, conventions.CURRENCY)
    return data.Transaction(
        meta,
        date,
        "*",
        PAYEE,
        description,
        data.EMPTY_SET,
        data.EMPTY_SET,
        [
            data.Posting(account, units, None, None, None, None),
            data.Posting(conventions.GICHD_CLEARING, -units, None, None, None, None),
        ],
    )


def archive_path(ledger_dir: Path, name: str, content: bytes) -> str:
    """``documents/expenditure/<name>``; a different file of the same name
    gets a short hash suffix, the same file keeps its path."""
    rel = f"{ARCHIVE_DIR}/{PurePosixPath(name).name}"
    existing = ledger_dir / rel
    if not existing.exists() or existing.read_bytes() == content:
        return rel
    stem, suffix = PurePosixPath(rel).stem, PurePosixPath(rel).suffix
    return f"{ARCHIVE_DIR}/{stem}-{hashlib.sha256(content).hexdigest()[:8]}{suffix}"


def plan_import(ledger_dir: Path, path: Path | str, entries: list) -> ExpenditurePlan:
    """Entries for the rows of a GICHD report; ExcelErrors for any bad row."""
    from ledger.plugins.year_lock import locked_years

    path = Path(path)
    rows = read_rows(path, TEMPLATE)
    content = path.read_bytes()
    source = archive_path(ledger_dir, path.name, content)
    accounts = budget_accounts(entries)
    locked = locked_years(entries)
    booked = booked_refs(entries)
    plan = ExpenditurePlan()
    seen: dict[str, int] = {}
    for row in rows:
        v = row.values
        account = None
        if v["line"] is not None:
            try:
                account = line_account(v["line"], accounts)
            except ValueError as exc:
                row.error("line", str(exc))
        if v["amount"] is not None and v["amount"] == 0:
            row.error("amount", "must not be zero")
        if v["date"] is not None and v["date"].year in locked:
            sign_off = locked[v["date"].year]
            row.error(
                "date",
                f"{v['date']}: {v['date'].year} is signed off (auditor {sign_off.auditor}, opinion "
                f"{sign_off.opinion_date}); report the cost with a date in the open year",
            )
        ref = v["reference"]
        if ref is not None:
            if ref in seen:
                row.error("reference", f"{ref} is also on row {seen[ref]}")
            seen.setdefault(ref, row.number)
        if None in (v["date"], account, v["description"], v["amount"], ref) or v["amount"] == 0:
            continue
        new = expenditure_entry(v["date"], account, v["description"], v["amount"], ref, source)
        old = booked.get(ref)
        if old is not None:
            same = old.date == new.date and [(p.account, p.units) for p in old.postings] == [
                (p.account, p.units) for p in new.postings
            ]
            if same:
                plan.duplicates.append(ref)
            else:
                row.error(
                    "reference",
                    f"{ref} is already booked on {old.date} with other values "
                    f"({old.postings[0].account} {old.postings[0].units}); a correction needs a new reference",
                )
            continue
        plan.entries.append(new)
    raise_errors(rows)
    if plan.entries:
        plan.archive = (source, content)
    return plan


def clearing(entries: Iterable, year: int | None = None) -> list[ClearingPeriod]:
    """The GICHD clearing account per month (of ``year`` if given)."""
    months: dict[str, list[Decimal]] = {}
    balance = ZERO
    opening = ZERO
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        expenditure = (entry.meta or {}).get(conventions.META_KIND) == "expenditure"
        for posting in entry.postings:
            if posting.account != conventions.GICHD_CLEARING or posting.units is None:
                continue
            number = posting.units.number
            if year is not None and entry.date.year < year:
                opening += number
                continue
            if year is not None and entry.date.year > year:
                continue
            slot = months.setdefault(f"{entry.date:%Y-%m}", [ZERO, ZERO])
            if expenditure:
                slot[1] -= number
            else:
                slot[0] += number
    periods = []
    balance = opening
    for period in sorted(months):
        transferred, reported = months[period]
        balance += transferred - reported
        periods.append(ClearingPeriod(period, transferred, reported, transferred - reported, balance))
    return periods


def clearing_lines(periods: Sequence[ClearingPeriod]) -> list[str]:
    """The clearing as text lines for the CLI."""
    lines = [f"{'period':<8} {'transferred':>14} {'reported':>14} {'difference':>14} {'balance':>14}"]
    for p in periods:
        lines.append(
            f"{p.period:<8} {grouped(p.transferred):>14} {grouped(p.reported):>14} {grouped(p.difference):>14} {grouped(p.balance):>14}"
        )
    if periods:
        t = sum((p.transferred for p in periods), ZERO)
        r = sum((p.reported for p in periods), ZERO)
        lines.append(f"{'total':<8} {grouped(t):>14} {grouped(r):>14} {grouped(t - r):>14} {grouped(periods[-1].balance):>14}")
    return lines


def expenditure_by_line(entries: Iterable, year: int) -> dict[str, Decimal]:
    """Actual expenditure of ``year`` per budget-line account."""
    totals: dict[str, Decimal] = {}
    prefix = conventions.EXPENSES + ":"
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date.year == year and not conventions.is_closing(entry):
            for p in entry.postings:
                if p.account.startswith(prefix) and p.units is not None:
                    totals[p.account] = totals.get(p.account, ZERO) + p.units.number
    return totals


__all__ = ["TEMPLATE", "ClearingPeriod", "ExcelErrors", "clearing", "clearing_lines", "expenditure_by_line", "plan_import"]
