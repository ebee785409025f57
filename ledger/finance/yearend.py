"""Year end: ``close-year`` (result, buffer, advances) and ``sign-off`` (the lock).

**The year's result** is the income statement of the calendar year as the
books hold it (modified cash basis): every ``Income:`` posting dated in the
year (contributions as received, advances only once recognised, interest,
suspense) less every ``Expenses:`` posting dated in it (reported
expenditure, bank charges). Reports by work-plan year are a different,
complementary view (``ledger.finance.pledges``); the result is what the fund gained.

**close-year YYYY** books, on 31 December:

* the allocation of a surplus to the buffer, up to the buffer's target under
  the policy in force (``ledger.finance.buffer.target``); the rest of the surplus
  stays in the fund balance, carried forward. A deficit is covered from the
  buffer as far as it holds; the rest reduces the fund balance;
* ``custom "isu-year-closed" YYYY`` with the figures as metadata;

* the closing transaction (``isu_kind: "closing"``, tag ``#isu-closing``):
  the year's income and expenditure, and the opening balances, into
  ``Equity:FundBalance``, so that Fava's balance sheet at 31 December shows
  the fund balance of the statements, buffer and unrestricted apart. In Fava,
  the filter ``-#isu-closing`` shows the year's income statement without it;

and, on 1 January of YYYY+1, the recognition in income of every
contribution received in advance for YYYY+1 (``isu_kind: "recognition"``,
debiting the advance liability, same attribution, ``recognises`` naming the
receipt's bank reference).

Closing again (a December statement arrived late, a report was corrected)
books only what changed: the difference of the allocation and the
recognitions still missing, and a new ``isu-year-closed`` whose figures
supersede the earlier ones. Nothing changed: nothing is written.

**sign-off YYYY** requires a closed year whose result still equals the
closed figures, then writes ``custom "isu-sign-off"`` (dated on the opinion
date) with the fingerprint of the year's entries as loaded; the year-lock
plugin and the writer refuse any change dated in the year from then on. The
auditor who signs is one value of the directive; the firm or office they
sign for, if any, is its ``on_behalf_of`` metadata.

Both are refused for a year the books do not hold (before the year of their
first transaction, the opening balance): closing 1999 would otherwise
create ``txns/1999.beancount`` and a year nobody kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from ledger.finance import buffer as buf
from ledger import conventions
from ledger.fingerprint import year_fingerprint
from ledger.money import grouped
from ledger.plugins.isu_rules import as_year
from ledger.plugins.year_lock import SignOff, locked_years, sign_off_entry

__all__ = ["ClosePlan", "YearEndRefused", "close_year", "is_closed", "locked_years", "on_behalf_of", "plan_close", "sign_off", "year_result"]

ZERO = Decimal("0.00")
META_RECOGNISES = "recognises"
META_ON_BEHALF_OF = "on_behalf_of"  # on a sign-off: the firm or office the auditor signed for
META_OPINION = "opinion"  # on a sign-off: the type of the audit opinion
OPINIONS = ("unmodified", "qualified", "adverse", "disclaimer")
FIGURES = ("income", "expenditure", "surplus", "to_buffer", "carried_forward", "buffer_target", "buffer_balance")


class YearEndRefused(Exception):
    """close-year or sign-off refused; ``str()`` is one line."""


def year_result(entries, year: int) -> tuple[Decimal, Decimal, Decimal]:
    """(income, expenditure, surplus) of calendar ``year`` (see module doc)."""
    income = expenditure = ZERO
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date.year == year and not conventions.is_closing(entry):
            for p in entry.postings:
                if p.units is None:
                    continue
                if p.account.startswith("Income:"):
                    income -= p.units.number
                elif p.account.startswith("Expenses:"):
                    expenditure += p.units.number
    return income, expenditure, income - expenditure


def closings(entries, year: int) -> list[data.Custom]:
    """The ``isu-year-closed`` entries of ``year``, in book order (last wins)."""
    return [
        e
        for e in entries
        if isinstance(e, data.Custom)
        and e.type == conventions.CUSTOM_YEAR_CLOSED
        and e.values
        and as_year(e.values[0].value) == year
    ]


def is_closed(entries, year: int) -> bool:
    return bool(closings(entries, year))


def closed_figures(entries, year: int) -> dict[str, Decimal] | None:
    """The figures of the latest closing of ``year`` (None if not closed)."""
    found = closings(entries, year)
    if not found:
        return None
    meta = found[-1].meta or {}
    return {k: meta[k] for k in FIGURES if isinstance(meta.get(k), Decimal)}


def _allocated_by_close(entries, year: int) -> Decimal:
    total = ZERO
    for entry in entries:
        if isinstance(entry, data.Transaction) and as_year((entry.meta or {}).get(conventions.META_CLOSES_YEAR)) == year:
            total -= sum((p.units.number for p in entry.postings if p.account == conventions.BUFFER and p.units), ZERO)
    return total


def _outstanding_advances(entries, wp_year: int) -> list[tuple[tuple[str, str, str], Decimal]]:
    """Advance liability still held for ``wp_year``, per (state, work plan, receipt)."""
    held: dict[tuple[str, str, str], Decimal] = {}
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        tmeta = entry.meta or {}
        for p in entry.postings:
            if p.account != conventions.ADVANCE or p.units is None:
                continue
            pmeta = p.meta or {}
            if as_year(pmeta.get(conventions.META_WP_YEAR)) != wp_year:
                continue
            receipt = (
                pmeta.get(META_RECOGNISES)
                or pmeta.get(conventions.META_REVERSAL_OF)
                or tmeta.get(conventions.META_REVERSAL_OF)
                or pmeta.get(conventions.META_BANK_REF)
                or tmeta.get(conventions.META_BANK_REF)
                or ""
            )
            key = (str(pmeta.get(conventions.META_STATE_PARTY) or ""), str(pmeta.get(conventions.META_WORK_PLAN) or conventions.DEFAULT_WORK_PLAN), str(receipt))
            held[key] = held.get(key, ZERO) - p.units.number
    return [(key, amount) for key, amount in sorted(held.items()) if amount > 0]


def recognition_entry(entries, next_year: int) -> data.Transaction | None:
    """The recognition on 1 January of ``next_year`` of its advances (None if none)."""
    postings = []
    for (state, work_plan, receipt), amount in _outstanding_advances(entries, next_year):
        meta = {conventions.META_STATE_PARTY: state, conventions.META_WORK_PLAN: work_plan, conventions.META_WP_YEAR: Decimal(next_year)}
        if receipt:
            meta[META_RECOGNISES] = receipt
        units = Amount(amount, conventions.CURRENCY)
        postings.append(data.Posting(conventions.ADVANCE, units, None, None, None, dict(meta)))
        postings.append(data.Posting(conventions.contribution_account(work_plan), -units, None, None, None, dict(meta)))
    if not postings:
        return None
    meta = data.new_metadata("<isu-ledger close-year>", 0)
    meta[conventions.META_KIND] = "recognition"
    meta[conventions.META_CLOSES_YEAR] = Decimal(next_year - 1)
    return data.Transaction(
        meta,
        datetime.date(next_year, 1, 1),
        "*",
        None,
        f"Recognition of contributions received in advance for {next_year}",
        frozenset({conventions.year_tag(next_year)}),
        data.EMPTY_SET,
        postings,
    )


def closing_entry(entries, year: int) -> data.Transaction | None:
    """The closing of ``year`` on 31 December (None: nothing left to close):
    the balance of every income and expense account for the year moves into
    the fund balance, and so do the opening balances, so that after the close
    the equity accounts hold the fund balance of the statements (policy 11).
    Earlier closings of the year are counted, so closing again books only
    the difference."""
    end = datetime.date(year, 12, 31)
    moved: dict[str, Decimal] = {}
    for entry in entries:
        if entry.date > end:
            break
        if not isinstance(entry, data.Transaction):
            continue
        for p in entry.postings:
            if p.units is None:
                continue
            result = entry.date.year == year and p.account.startswith(("Income:", "Expenses:"))
            if result or p.account == conventions.OPENING:
                moved[p.account] = moved.get(p.account, ZERO) + p.units.number
    postings = [data.Posting(account, Amount(-amount, conventions.CURRENCY), None, None, None, None)
                for account, amount in sorted(moved.items()) if amount]
    if not postings:
        return None
    fund = sum((amount for amount in moved.values()), ZERO)
    postings.append(data.Posting(conventions.FUND_BALANCE, Amount(fund, conventions.CURRENCY), None, None, None, None))
    meta = data.new_metadata("<isu-ledger close-year>", 0)
    meta[conventions.META_KIND] = conventions.CLOSING
    meta[conventions.META_CLOSES_YEAR] = Decimal(year)
    return data.Transaction(meta, end, "*", None, f"Year {year} closed: income and expenditure to the fund balance",
                            frozenset({conventions.TAG_CLOSING}), data.EMPTY_SET, postings)


@dataclass
class ClosePlan:
    year: int
    figures: dict[str, Decimal]
    entries: list = field(default_factory=list)
    recognised: Decimal = ZERO
    commit: str | None = None  # the ledger commit that booked the close (None: nothing booked)

    @property
    def empty(self) -> bool:
        return not self.entries

    def lines(self) -> list[str]:
        f = self.figures
        target = "no policy" if f.get("buffer_target") is None else grouped(f["buffer_target"])
        lines = [
            (
                f"{self.year}: income {grouped(f['income'])}, expenditure {grouped(f['expenditure'])}, "
                f"{'surplus' if f['surplus'] >= 0 else 'deficit'} {grouped(abs(f['surplus']))} CHF"
            ),
            (
                f"  to the buffer {grouped(f['to_buffer'])} (target {target}, balance after "
                f"{grouped(f['buffer_balance'])}); carried forward {grouped(f['carried_forward'])}"
            ),
        ]
        if self.recognised:
            lines.append(f"  advances recognised in {self.year + 1}: {grouped(self.recognised)} CHF")
        return lines


def first_day(entries) -> datetime.date | None:
    """The date of the books' first transaction (the opening balance): the
    books hold the calendar years from its year on (None: no transaction)."""
    return min((e.date for e in entries if isinstance(e, data.Transaction)), default=None)


def refuse_outside_books(entries, year: int, action: str) -> None:
    """Year end only for a year the books hold: not one before their first
    transaction (a close would create a year the books never had)."""
    first = first_day(entries)
    if first is None:
        raise YearEndRefused(f"{action} {year}: the books hold no transaction yet (import a statement or set an opening balance first)")
    if year < first.year:
        raise YearEndRefused(f"{action} {year}: the books begin in {first.year} (first entry {first}); they hold no {year}")


def plan_close(entries: list, year: int, today: datetime.date) -> ClosePlan:
    """What ``close-year`` books for ``year`` (see the module docstring)."""
    refuse_outside_books(entries, year, "close-year")
    locked = locked_years(entries)
    if year in locked:
        raise YearEndRefused(_locked_message(year, locked[year]))
    if today <= datetime.date(year, 12, 31):
        raise YearEndRefused(f"{year} has not ended yet (today is {today})")
    year_end = datetime.date(year, 12, 31)
    income, expenditure, surplus = year_result(entries, year)
    already = _allocated_by_close(entries, year)
    before = buf.balance(entries, year_end) - already
    target = buf.target(entries, year, year_end)
    to_buffer = buf.close_allocation(before, target, surplus)
    figures = {
        "income": income,
        "expenditure": expenditure,
        "surplus": surplus,
        "to_buffer": to_buffer,
        "carried_forward": surplus - to_buffer,
        "buffer_target": target,
        "buffer_balance": before + to_buffer,
    }
    plan = ClosePlan(year, figures)
    adjustment = to_buffer - already
    rule = buf.policy(entries, year_end)
    if adjustment:
        decision = f"close-year {year}: buffer policy" + (f" ({rule.decision})" if rule and rule.decision else "")
        narration = (
            f"Year {year} closed: surplus to the financial security buffer"
            if adjustment > 0
            else f"Year {year} closed: deficit covered from the financial security buffer"
        )
        plan.entries.append(buf.movement_entry(adjustment, decision, year_end, kind="close", closes_year=year, narration=narration))
    closing = closing_entry(entries, year)
    if closing is not None:
        plan.entries.append(closing)
    recognition = recognition_entry(entries, year + 1)
    if recognition is not None:
        plan.recognised = sum((-p.units.number for p in recognition.postings if p.account != conventions.ADVANCE), ZERO)
        plan.entries.append(recognition)
    previous = closed_figures(entries, year)
    comparable = {k: v for k, v in figures.items() if v is not None}
    if plan.entries or previous != comparable:
        plan.entries.append(_closed_entry(year, figures))
    return plan


def _closed_entry(year: int, figures: dict[str, Decimal | None]) -> data.Custom:
    meta = data.new_metadata("<isu-ledger close-year>", 0)
    for key in FIGURES:
        if figures.get(key) is not None:
            meta[key] = figures[key]
    return data.Custom(meta, datetime.date(year, 12, 31), conventions.CUSTOM_YEAR_CLOSED, [ValueType(Decimal(year), Decimal)])


def _locked_message(year: int, sign_off: SignOff) -> str:
    return (
        f"{year} is signed off (auditor {sign_off.auditor}, opinion {sign_off.opinion_date}): "
        f"nothing dated in {year} can change; book a correction in the open year"
    )


def close_year(ledger_dir: Path | str, year: int, *, user: str, today: datetime.date | None = None, dry_run: bool = False) -> ClosePlan:
    """Plan and (unless ``dry_run``) book the close of ``year``; one commit."""
    from ledger.loader import load_books
    from ledger.store.writer import LedgerWriter

    today = today or datetime.date.today()
    books = load_books(ledger_dir)
    if books.errors:
        raise YearEndRefused(f"the ledger has {len(books.errors)} error(s); run isu-ledger check first: {books.errors[0]}")
    plan = plan_close(books.entries, year, today)
    if not dry_run and not plan.empty:
        with LedgerWriter(ledger_dir, user, f"close-year {year}") as writer:
            writer.add_entries(plan.entries)
        plan.commit = writer.commit
    return plan


@dataclass(frozen=True)
class SignOffResult:
    year: int
    fingerprint: str
    commit: str | None
    auditor: str = ""
    on_behalf_of: str | None = None


MAX_NAME = 200


def signer_name(text: str | None, what: str) -> str:
    """A name as the sign-off records it: one line, spaces collapsed, no
    quote or backslash (Beancount's printer writes custom values unescaped)."""
    name = " ".join((text or "").split())
    if len(name) > MAX_NAME:
        raise YearEndRefused(f"{what}: at most {MAX_NAME} characters")
    if any(ch in name for ch in '"\\') or not name.isprintable():
        raise YearEndRefused(f"{what}: {name[:40]!r} may not contain quotes, backslashes or control characters")
    return name


def sign_off(
    ledger_dir: Path | str,
    year: int,
    auditor: str,
    opinion_date: datetime.date,
    *,
    user: str,
    on_behalf_of: str | None = None,
    today: datetime.date | None = None,
    opinion: str = "unmodified",
) -> SignOffResult:
    """Record the auditor's opinion on ``year`` and lock it (one commit).

    ``auditor`` is who signs (in the web app, the signed-in auditor's full
    name); ``on_behalf_of`` (optional) the firm or office it signs for, kept
    apart in the sign-off's metadata and the commit message."""
    from ledger.loader import load_books
    from ledger.store.writer import LedgerWriter

    today = today or datetime.date.today()
    if opinion not in OPINIONS:
        raise YearEndRefused(f"opinion {opinion[:40]!r}: one of {', '.join(OPINIONS)}")
    auditor = signer_name(auditor, "--auditor")
    if not auditor:
        raise YearEndRefused("--auditor: name the auditor who signed the opinion")
    on_behalf_of = signer_name(on_behalf_of, "--on-behalf-of") or None
    books = load_books(ledger_dir)
    if books.errors:
        raise YearEndRefused(f"the ledger has {len(books.errors)} error(s); run isu-ledger check first: {books.errors[0]}")
    entries = books.entries
    refuse_outside_books(entries, year, "sign-off")
    locked = locked_years(entries)
    if year in locked:
        raise YearEndRefused(f"{year} is already signed off (auditor {locked[year].auditor}, opinion {locked[year].opinion_date})")
    if opinion_date <= datetime.date(year, 12, 31):
        raise YearEndRefused(f"--opinion-date {opinion_date}: an opinion on {year} is given after the year's end")
    if opinion_date > today:
        raise YearEndRefused(f"--opinion-date {opinion_date}: is in the future (today is {today})")
    figures = closed_figures(entries, year)
    if figures is None:
        raise YearEndRefused(f"{year} is not closed: run isu-ledger close-year {year} first")
    income, expenditure, surplus = year_result(entries, year)
    if (figures.get("income"), figures.get("expenditure")) != (income, expenditure):
        raise YearEndRefused(
            f"{year} changed since it was closed (surplus then {figures.get('surplus')}, now {surplus}): "
            f"run isu-ledger close-year {year} again"
        )
    if recognition_entry(entries, year + 1) is not None:
        raise YearEndRefused(
            f"advances for {year + 1} are not recognised yet: run isu-ledger close-year {year} again"
        )
    if closing_entry(entries, year) is not None:
        raise YearEndRefused(f"{year}'s income and expenditure are not all closed into the fund balance: "
                             f"run isu-ledger close-year {year} again")
    fingerprint = year_fingerprint(entries, year)
    meta = data.new_metadata("<isu-ledger>", 0)
    meta[META_OPINION] = opinion
    if on_behalf_of:
        meta[META_ON_BEHALF_OF] = on_behalf_of
    try:
        entry = sign_off_entry(year, auditor, opinion_date, fingerprint, opinion_date, meta)
    except ValueError as exc:
        raise YearEndRefused(str(exc)) from None
    behalf = f", on behalf of {on_behalf_of}" if on_behalf_of else ""
    with LedgerWriter(ledger_dir, user, f"sign-off {year} (auditor {auditor}{behalf}, {opinion} opinion {opinion_date})") as writer:
        writer.add_entries([entry])
    return SignOffResult(year, fingerprint, writer.commit, auditor, on_behalf_of)


def opinion_of(sign_off: SignOff) -> str:
    """The type of the opinion of a sign-off (books signed before it was recorded: unmodified)."""
    value = (sign_off.entry.meta or {}).get(META_OPINION)
    return value if value in OPINIONS else "unmodified"


def on_behalf_of(sign_off: SignOff) -> str | None:
    """For whom the auditor of a sign-off signed (None: in their own name)."""
    value = (sign_off.entry.meta or {}).get(META_ON_BEHALF_OF)
    return value if isinstance(value, str) and value else None
