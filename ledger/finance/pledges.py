"""Pledges: what States Parties announced they will pay, shown against receipts.

A pledge is not income (modified cash basis: income when received); it is
recorded for predictability as a ledger entry, so it is versioned, locked
with its year and visible to the auditor::

    2025-02-15 custom "isu-pledge" "DEU" 2025 100000.00 EUR
      pledge_id: "P-2025-DEU-01"
      work_plan: "core"
      expected: 2025-06-30
      schedule: "S-DEU-2025-2027"
      note: "Note verbale 123/2025"
      rate: 0.9500        ; optional: CHF per unit when pledged (e.g. UN operational rate)

A multi-year pledge is one entry per work-plan year with the same
``schedule`` id; the amount given is the amount for each year.

**Against receipts, and FX** (``pledge_status``). Receipts count for a State
and year by their ``wp_year`` (a late payment for a signed-off year counts in
the year it was booked, with ``designated_year``). A CHF pledge compares
directly. A pledge in another currency counts at **the rate recorded with the
pledge** (policy 13): its ``rate`` metadata, else a Beancount ``price`` for
the currency in CHF on or before the pledge date. Receipts attributed to it
carry the instructed amount and currency (``instructed: "100000.00 EUR"``)
beside the CHF the bank credited: what is still due is the part of the
pledge not yet paid *in its currency*, at the pledge's rate, and the CHF
received less the paid part at the pledge's rate is the exchange difference
on pledges (``fx_difference``). A pledge of EUR 100,000 at 0.95 is CHF
95,000 pledged; paid with EUR 100,000 that became CHF 94,100 it is fully paid
with an exchange difference of CHF -900. A foreign-currency pledge with no
rate recorded is valued at the rate its payments achieved once something is
paid, and is not valued (``pledged`` None) before.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from ledger import conventions
from ledger.finance.workbooks import Column, ExcelErrors, Template, raise_errors, read_rows
from ledger.money import ZERO, cents, text

_INSTRUCTED = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s+([A-Z]{3})\s*$")

TEMPLATE = Template(
    sheet="Pledges",
    title="Pledges of States Parties to the ISU (one row per State, work-plan year and amount)",
    columns=(
        Column("state_party", "State Party", "iso3", help="ISO 3166-1 alpha-3 code of the State (e.g. DEU)", example="DEU", width=12),
        Column("year", "Year", "year", help="work-plan year the pledge is for", example=2026, width=8),
        Column("amount", "Amount", "money", help="amount pledged for that year, in the currency of the pledge", example=100000, width=16),
        Column("currency", "Currency", "currency", required=False, help="ISO 4217 code (default CHF)", example="EUR", width=10),
        Column("expected", "Expected", "date", required=False, help="date the payment is expected (YYYY-MM-DD)", example="2026-06-30", width=12),
        Column("work_plan", "Work plan", "text", required=False, help="work plan (default core)", example="core", width=10),
        Column("date", "Pledged on", "date", required=False, help="date of the pledge (default: today)", example="2026-02-15", width=12),
        Column("schedule", "Schedule", "text", required=False, help="id shared by the yearly rows of a multi-year pledge", example="S-DEU-2026-2028", width=18),
        Column("rate", "Rate", "text", required=False, help="CHF per unit of the currency when pledged (optional, for the FX difference)", example="0.95", width=8),
        Column("note", "Note", "text", required=False, help="reference, e.g. the note verbale", example="Note verbale 123/2026", width=30),
        Column("pledge_id", "Pledge ID", "text", required=False, help="leave empty for a new pledge; a known id updates that pledge", example="", width=16),
    ),
    notes=(
        "One row per State Party, work-plan year and pledge. A multi-year pledge: one row per year, same Schedule.",
        "Upload the filled-in file on the Uploads page of the ISU ledger (preview first). Any bad row refuses the whole file.",
        "Rows with a Pledge ID that is already recorded with the same values are skipped (also in signed-off years); "
        "with other values they update it.",
    ),
)


class PledgeRefused(Exception):
    """A pledge that cannot be recorded; ``str()`` is one line."""


@dataclass(frozen=True)
class Pledge:
    state_party: str
    wp_year: int
    amount: Decimal
    currency: str
    expected: datetime.date | None
    work_plan: str
    pledge_id: str
    schedule: str | None
    note: str | None
    date: datetime.date
    rate: Decimal | None = None
    entry: data.Custom | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PledgeStatus:
    """A State's pledges for a work-plan year against what it paid (CHF)."""

    state_party: str
    wp_year: int
    pledged: Decimal | None  # CHF; None while a foreign-currency pledge has no rate yet
    pledged_original: dict[str, Decimal]  # currency -> amount pledged in it
    received: Decimal
    outstanding: Decimal | None
    fx_pending: bool
    fx_difference: Decimal | None
    pledge_ids: tuple[str, ...]


# --- reading -----------------------------------------------------------------


def parse_pledge(entry: data.Custom) -> Pledge | None:
    """A ``custom "isu-pledge"`` entry as a Pledge (None if malformed)."""
    from ledger.plugins.isu_rules import as_year, custom_values

    values = custom_values(entry)
    if len(values) != 3 or not isinstance(values[0], str) or not isinstance(values[2], Amount):
        return None
    year = as_year(values[1])
    if year is None:
        return None
    meta = entry.meta or {}
    expected = meta.get("expected")
    rate = meta.get(conventions.META_RATE)
    return Pledge(
        state_party=values[0],
        wp_year=year,
        amount=values[2].number,
        currency=values[2].currency,
        expected=expected if isinstance(expected, datetime.date) else None,
        work_plan=str(meta.get(conventions.META_WORK_PLAN) or conventions.DEFAULT_WORK_PLAN),
        pledge_id=str(meta.get("pledge_id") or ""),
        schedule=meta.get("schedule"),
        note=meta.get("note"),
        date=entry.date,
        rate=rate if isinstance(rate, Decimal) else None,
        entry=entry,
    )


def pledges(entries: Iterable, year: int | None = None) -> list[Pledge]:
    """Every pledge (for work-plan ``year`` if given), by year, State, id."""
    found = []
    for entry in entries:
        if isinstance(entry, data.Custom) and entry.type == conventions.CUSTOM_PLEDGE:
            pledge = parse_pledge(entry)
            if pledge is not None and (year is None or pledge.wp_year == year):
                found.append(pledge)
    found.sort(key=lambda p: (p.wp_year, p.state_party, p.pledge_id))
    return found


def instructed(meta: dict) -> tuple[Decimal, str] | None:
    """(amount, currency) a posting's ``instructed`` metadata records ("100000.00 EUR"), or None."""
    match = _INSTRUCTED.match(str(meta.get(conventions.META_INSTRUCTED) or ""))
    return (Decimal(match.group(1)), match.group(2)) if match else None


@dataclass
class _Paid:
    chf: Decimal = ZERO
    by_currency: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # X -> (amount X, CHF)


def receipts_by_state(entries: Iterable, year: int, as_of: datetime.date | None = None) -> dict[str, _Paid]:
    """CHF received per State for work-plan ``year`` (every attributed
    contribution posting, income or advance, so recognitions and reversals
    net out), with the instructed foreign amounts behind them."""
    from ledger.receipts import contribution_postings, is_recognition

    paid: dict[str, _Paid] = {}
    for entry, posting, state_party, wp_year in contribution_postings(entries, as_of):
        if wp_year != year:
            continue
        recognition = is_recognition(entry)
        meta = posting.meta or {}
        state = paid.setdefault(state_party, _Paid())
        chf = -posting.units.number
        state.chf += chf
        sent = None if recognition else instructed(meta)
        if sent is not None and sent[1] != conventions.CURRENCY:
            number, currency = sent
            sign = 1 if chf >= 0 else -1
            old = state.by_currency.get(currency, (ZERO, ZERO))
            state.by_currency[currency] = (old[0] + sign * abs(number), old[1] + chf)
    return paid


def _pledge_rate(pledge: Pledge, price_map) -> Decimal | None:
    if pledge.rate is not None:
        return pledge.rate
    if price_map is None:
        return None
    from beancount.core import prices

    _, rate = prices.get_price(price_map, (pledge.currency, conventions.CURRENCY), pledge.date)
    return rate


def pledge_status(entries: list, year: int, as_of: datetime.date | None = None) -> list[PledgeStatus]:
    """Per State with a pledge or a receipt for ``year``: pledged, received,
    outstanding and the FX view (see the module docstring)."""
    from beancount.core import prices

    as_of = as_of or datetime.date(year, 12, 31)
    year_pledges = [p for p in pledges(entries, year) if p.date <= as_of]
    paid = receipts_by_state(entries, year, as_of)
    price_map = prices.build_price_map(entries) if any(isinstance(e, data.Price) for e in entries) else None
    states = sorted({p.state_party for p in year_pledges} | set(paid))
    return [
        _state_status(state, year, [p for p in year_pledges if p.state_party == state], paid.get(state, _Paid()), price_map)
        for state in states
    ]


def _state_status(state: str, year: int, mine: list[Pledge], got: _Paid, price_map) -> PledgeStatus:
    """One State's pledges for ``year`` (possibly none) against its receipts."""
    original: dict[str, Decimal] = {}
    for p in mine:
        original[p.currency] = original.get(p.currency, ZERO) + p.amount
    value = _value_in_chf(original, mine, got, price_map)
    if not mine:
        pledged, outstanding = ZERO, ZERO
    else:
        pledged, outstanding = value.pledged, value.outstanding
    return PledgeStatus(
        state_party=state,
        wp_year=year,
        pledged=pledged,
        pledged_original=original,
        received=got.chf,
        outstanding=outstanding,
        fx_pending=value.fx_pending,
        fx_difference=value.fx_difference,
        pledge_ids=tuple(p.pledge_id for p in mine),
    )


class _ValueInChf(NamedTuple):
    pledged: Decimal | None  # None: a currency pledged has no rate and no payment yet
    outstanding: Decimal | None
    fx_pending: bool  # some currency pledged is not fully paid yet
    fx_difference: Decimal | None  # None: nothing paid in another currency


def _currency_rate(currency: str, mine: list[Pledge], price_map, paid_x: Decimal, paid_chf: Decimal) -> Decimal | None:
    """The rate a currency pledged counts at: the pledge's own, else the one
    its payments achieved, else none."""
    rates = [r for r in (_pledge_rate(p, price_map) for p in mine if p.currency == currency) if r]
    if rates:
        return rates[0]
    return paid_chf / paid_x if paid_x > 0 else None


def _value_in_chf(original: dict[str, Decimal], mine: list[Pledge], got: _Paid, price_map) -> _ValueInChf:
    """The CHF value of a State's pledges, what is still due and the exchange
    difference (module docstring)."""
    chf_pledged = original.get(conventions.CURRENCY, ZERO)
    chf_paid = got.chf - sum((chf for _x, chf in got.by_currency.values()), ZERO)
    pledged: Decimal | None = chf_pledged
    outstanding: Decimal | None = max(chf_pledged - chf_paid, ZERO)
    fx_pending, fx_difference = False, None
    for currency, amount in sorted(original.items()):
        if currency == conventions.CURRENCY:
            continue
        paid_x, paid_chf = got.by_currency.get(currency, (ZERO, ZERO))
        fx_pending |= paid_x < amount
        rate = _currency_rate(currency, mine, price_map, paid_x, paid_chf)
        if rate is None:
            pledged = outstanding = None
            continue
        if pledged is not None:
            pledged += cents(amount * rate)
            outstanding += cents(max(amount - paid_x, ZERO) * rate)
        if paid_x > 0:
            fx_difference = (fx_difference or ZERO) + cents(paid_chf - min(paid_x, amount) * rate
                                                             - max(paid_x - amount, ZERO) * paid_chf / paid_x)
    return _ValueInChf(pledged, outstanding, fx_pending, fx_difference)


# --- writing -------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeSpec:
    """A pledge as entered (CLI or one Excel row), before it has an id."""

    state_party: str
    wp_year: int
    amount: Decimal
    currency: str = conventions.CURRENCY
    expected: datetime.date | None = None
    work_plan: str = conventions.DEFAULT_WORK_PLAN
    date: datetime.date | None = None
    schedule: str | None = None
    rate: Decimal | None = None
    note: str | None = None
    pledge_id: str | None = None


def pledge_entry(spec: PledgeSpec, pledge_id: str, date: datetime.date) -> data.Custom:
    meta = data.new_metadata("<isu-ledger pledge>", 0)
    meta["pledge_id"] = pledge_id
    meta[conventions.META_WORK_PLAN] = spec.work_plan
    if spec.expected is not None:
        meta["expected"] = spec.expected
    if spec.schedule:
        meta["schedule"] = spec.schedule
    if spec.rate is not None:
        meta[conventions.META_RATE] = spec.rate
    if spec.note:
        meta["note"] = spec.note
    return data.Custom(
        meta,
        date,
        conventions.CUSTOM_PLEDGE,
        [
            ValueType(spec.state_party, str),
            ValueType(Decimal(spec.wp_year), Decimal),
            ValueType(Amount(spec.amount, spec.currency), Amount),
        ],
    )


def check_spec(spec: PledgeSpec, codes: set[str], locked: Iterable[int], today: datetime.date) -> list[tuple[str, str]]:
    """Problems with a pledge as (field, problem) pairs; empty if fine."""
    problems = []
    if spec.state_party not in codes:
        problems.append(("state_party", f"{spec.state_party}: not in the registry ({conventions.REGISTRY_FILE})"))
    if spec.work_plan not in conventions.WORK_PLANS:
        problems.append(("work_plan", f"{spec.work_plan}: not a work plan ({', '.join(conventions.WORK_PLANS)})"))
    date = spec.date or today
    if date.year in set(locked):
        problems.append(("date", f"{date}: {date.year} is signed off; record the pledge with a date in an open year"))
    if spec.rate is not None and spec.rate <= 0:
        problems.append(("rate", f"{spec.rate}: not a rate"))
    if spec.currency == conventions.CURRENCY and spec.rate is not None:
        problems.append(("rate", "a CHF pledge has no rate"))
    return problems


def _next_id(prefix: str, taken: set[str]) -> str:
    n = 1
    while f"{prefix}-{n:02d}" in taken:
        n += 1
    taken.add(f"{prefix}-{n:02d}")
    return f"{prefix}-{n:02d}"


@dataclass
class PledgePlan:
    """What recording a set of pledges will do."""

    new: list[data.Custom] = field(default_factory=list)
    updates: list[tuple[data.Custom, data.Custom]] = field(default_factory=list)  # (old as loaded, new)
    unchanged: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.new and not self.updates


def plan_pledges(entries: list, specs: Sequence[PledgeSpec], today: datetime.date) -> PledgePlan:
    """Entries for ``specs`` (checked already): new ids for new pledges; a
    known id with other values is an update of that entry."""
    existing = {p.pledge_id: p for p in pledges(entries)}
    taken = set(existing)
    plan = PledgePlan()
    for spec in specs:
        date = spec.date or today
        if spec.pledge_id and spec.pledge_id in existing:
            old = existing[spec.pledge_id]
            new = pledge_entry(spec, spec.pledge_id, spec.date or old.date)
            if parse_pledge(new) == old:
                plan.unchanged.append(spec.pledge_id)
            else:
                plan.updates.append((old.entry, new))
            continue
        pledge_id = spec.pledge_id or _next_id(f"P-{spec.wp_year}-{spec.state_party}", taken)
        taken.add(pledge_id)
        plan.new.append(pledge_entry(spec, pledge_id, date))
    return plan


def schedule_specs(base: PledgeSpec, first: int, last: int, taken: set[str]) -> list[PledgeSpec]:
    """One pledge per year of ``first..last`` sharing a schedule id."""
    if last < first:
        raise PledgeRefused(f"--years {first}-{last}: the last year is before the first")
    if last - first > 9:
        raise PledgeRefused(f"--years {first}-{last}: a schedule spans at most ten years")
    schedule = base.schedule or f"S-{base.state_party}-{first}-{last}"
    n, unique = 1, schedule
    while unique in taken:
        n += 1
        unique = f"{schedule}-{n}"
    return [
        PledgeSpec(**{**base.__dict__, "wp_year": year, "schedule": unique, "expected": _shift(base.expected, year - first)})
        for year in range(first, last + 1)
    ]


def _shift(day: datetime.date | None, years: int) -> datetime.date | None:
    if day is None or years == 0:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def read_pledge_workbook(path: Path | str, entries: list, codes: set[str], today: datetime.date) -> list[PledgeSpec]:
    """The rows of a pledge workbook, checked; ExcelErrors lists every bad row."""
    from ledger.plugins.year_lock import locked_years

    rows = read_rows(path, TEMPLATE)
    locked = set(locked_years(entries))
    recorded = {p.pledge_id: p for p in pledges(entries)}
    specs = []
    ids: dict[str, int] = {}
    for row in rows:
        v = row.values
        rate = None
        if v.get("rate") is not None:
            try:
                rate = Decimal(str(v["rate"]).replace(",", "."))
                if not rate.is_finite():
                    raise ArithmeticError
            except ArithmeticError:
                row.error("rate", f"{v['rate']}: not a rate")
        if v.get("pledge_id"):
            if v["pledge_id"] in ids:
                row.error("pledge_id", f"{v['pledge_id']} is also on row {ids[v['pledge_id']]}")
            ids.setdefault(v["pledge_id"], row.number)
        if None in (v["state_party"], v["year"], v["amount"]):
            continue
        spec = PledgeSpec(
            state_party=v["state_party"],
            wp_year=v["year"],
            amount=v["amount"],
            currency=v.get("currency") or conventions.CURRENCY,
            expected=v.get("expected"),
            work_plan=(v.get("work_plan") or conventions.DEFAULT_WORK_PLAN).lower(),
            date=v.get("date"),
            schedule=v.get("schedule"),
            rate=rate,
            note=v.get("note"),
            pledge_id=v.get("pledge_id"),
        )
        # A recorded pledge read back as it is (a downloaded template uploaded
        # back, signed-off years included) changes nothing: the plan skips it.
        if not _recorded_as_is(spec, recorded):
            for key, problem in check_spec(spec, codes, locked, today):
                row.error(key if key != "date" or v.get("date") else None, problem)
        specs.append(spec)
    raise_errors(rows)
    if not specs:
        raise ExcelErrors([f"{path}: no pledge rows"])
    return specs


def _recorded_as_is(spec: PledgeSpec, recorded: dict[str, Pledge]) -> bool:
    """Is the row a recorded pledge with the very values the books hold (a
    downloaded template uploaded back: signed-off years included)?"""
    old = recorded.get(spec.pledge_id) if spec.pledge_id else None
    return old is not None and parse_pledge(pledge_entry(spec, spec.pledge_id, spec.date or old.date)) == old


def template_rows(entries: list, year: int | None = None) -> list[dict]:
    """Recorded pledges as template rows (a round trip re-imports as unchanged)."""
    return [
        {
            "state_party": p.state_party,
            "year": p.wp_year,
            "amount": p.amount,
            "currency": p.currency,
            "expected": p.expected,
            "work_plan": p.work_plan,
            "date": p.date,
            "schedule": p.schedule,
            "rate": None if p.rate is None else str(p.rate),
            "note": p.note,
            "pledge_id": p.pledge_id,
        }
        for p in pledges(entries, year)
    ]


def to_json(p: Pledge) -> dict:
    return {
        "pledge_id": p.pledge_id,
        "state_party": p.state_party,
        "wp_year": p.wp_year,
        "amount": text(p.amount),
        "currency": p.currency,
        "expected": p.expected.isoformat() if p.expected else None,
        "work_plan": p.work_plan,
        "schedule": p.schedule,
        "note": p.note,
        "date": p.date.isoformat(),
    }
