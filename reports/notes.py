"""The numbered notes to the financial statements.

Every note is always present, in the same order, so that "note 7" means the
same thing in every year's report and the statements can cite notes by
number; a note with nothing to report says so. Amounts in the text are
written with thousands separators; a note with several figures carries a
table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from ledger.money import ZERO, grouped

from reports.model import AUDITED, NumberedNote, Percent, ReportHeader, Table


def chf(value: Decimal) -> str:
    return f"CHF {grouped(value)}"


@dataclass(frozen=True)
class FuturePledge:
    wp_year: int
    state_party: str
    name: str
    original: str  # "1,500,000.00 NOK, 1,000.00 EUR"
    chf: Decimal | None  # at the pledges' own rates; None: no rate recorded


@dataclass(frozen=True)
class LateReceipt:
    state_party: str
    wp_year: int | None
    designated_year: int | None
    amount: Decimal


@dataclass(frozen=True)
class NoteFacts:
    """The figures the notes cite, gathered by ``reports.annual``."""

    contributions_for_year: Decimal  # by work-plan year (the annexes)
    contributions_booked: Decimal  # by booking date (Statement II)
    advance_next_year: Decimal  # received for the next work-plan year, deferred
    recognised: Decimal  # received earlier for this year, recognised on 1 January
    fx_receipts: int
    fx_currencies: tuple[str, ...]
    fx_chf: Decimal
    pledge_fx_difference: Decimal | None  # CHF received less CHF pledged at the pledges' rates
    outstanding_pledges: Decimal
    unidentified: Decimal
    unidentified_count: int
    bank_charges: Decimal
    charges_on_receipts: Decimal
    negative_interest: Decimal
    buffer_policy: str
    buffer_target: Decimal
    buffer_balance: Decimal
    buffer_opening: Decimal
    buffer_funded: Decimal | None  # balance / target
    buffer_months: Decimal | None  # months of expenditure the balance covers
    monthly_expenditure: Decimal
    gichd_balance: Decimal  # + advance to the GICHD, - owed to it
    gichd_expenditure: Decimal  # expenditure reported by the GICHD (budget lines)
    corrections: int
    late: tuple[LateReceipt, ...] = ()
    future_pledges: tuple[FuturePledge, ...] = ()
    after_date: tuple[int, Decimal, datetime.date | None] = (0, ZERO, None)  # receipts after the reporting date


def _entity(h: ReportHeader) -> tuple[str, ...]:
    return (
        "The Implementation Support Unit (ISU) of the Anti-Personnel Mine Ban Convention supports the States "
        "Parties in implementing the Convention. It is hosted by the Geneva International Centre for Humanitarian "
        "Demining (GICHD) under an agreement with the States Parties, and is funded only by voluntary "
        "contributions of States Parties to its work plan.",
        f"These statements cover the ISU's core work plan for {h.year}. Amounts are in Swiss francs (CHF).",
    )


def _basis(h: ReportHeader, f: NoteFacts) -> tuple[str, ...]:
    return (
        "The statements are prepared on a modified cash basis: contributions are recognised when received, "
        "expenditure when reported by the GICHD, which holds the ISU's bank account and administers its "
        "expenditure, reports it by budget line, and is reimbursed from the account. Pledges are not income "
        "(note 3); contributions received for a later work-plan year are deferred (note 5). The basis draws on "
        "IPSAS (the cash-basis IPSAS and IPSAS 24 for the budget comparison).",
        "Contributions are attributed to the State Party that made them and to a work-plan year. The annexes "
        "show them by work-plan year; Statement II shows them by the date they were received. For "
        f"{h.year}: contributions for the {h.year} work plan {chf(f.contributions_for_year)}; contributions "
        f"recognised in {h.year} {chf(f.contributions_booked)}; the difference of "
        f"{chf(f.contributions_for_year - f.contributions_booked)} is the advances and late receipts of notes 5 "
        "and 11.",
        "Each statement shows the prior year's audited figures beside the year's own.",
    )


def _contributions(h: ReportHeader, f: NoteFacts) -> tuple[tuple[str, ...], Table | None]:
    paragraphs = [
        "Pledges (amount, currency, work-plan year and expected date) are recorded to make funding predictable "
        "and are shown against receipts; they are not income until received. A pledge in another currency "
        "counts at the rate recorded with the pledge until paid.",
        f"Pledges for {h.year} outstanding at the reporting date: {chf(f.outstanding_pledges)}. "
        + ("When a year is closed, its unpaid pledges are not carried as receivables: they lapse from that "
           "year's figures, and a later payment counts in the year it is received (note 11)."
           if h.status == AUDITED else
           "If the year is closed with pledges unpaid, they are not carried as receivables: they lapse from the "
           "year's figures, and a later payment counts in the year it is received."),
    ]
    if f.pledge_fx_difference is not None:
        paragraphs.append("Exchange difference on pledges paid in another currency (CHF received less CHF "
                          f"pledged at the pledges' own rates): {chf(f.pledge_fx_difference)}.")
    table = None
    if f.future_pledges:
        years = sorted({p.wp_year for p in f.future_pledges})
        paragraphs.append(f"Pledges recorded for later work-plan years ({', '.join(map(str, years))}) are listed "
                          "below; they are not income of any year until received.")
        table = Table(
            key="Future pledges", title="Note 3 — Pledges for later work-plan years",
            columns=("Work-plan year", "State Party", "Pledged", "CHF at the pledge rate"),
            rows=tuple((p.wp_year, p.name, p.original, p.chf) for p in f.future_pledges),
            totals=("Total", "", "", sum((p.chf for p in f.future_pledges if p.chf is not None), ZERO)),
        )
    else:
        paragraphs.append("No pledges are recorded for later work-plan years.")
    return tuple(paragraphs), table


def _fx(f: NoteFacts) -> tuple[str, ...]:
    if not f.fx_receipts:
        return ("All contributions of the year were instructed in CHF.",)
    return (
        f"{f.fx_receipts} contribution(s) were instructed in {', '.join(f.fx_currencies)}; they are booked at the "
        f"CHF amount the bank credited ({chf(f.fx_chf)} in all). The instructed amount, its currency and the "
        "bank's rate are kept with each receipt. A reversed receipt and its re-sent payment count once.",
    )


def _advances(h: ReportHeader, f: NoteFacts) -> tuple[str, ...]:
    return (
        f"Contributions received for the {h.year + 1} work plan by the reporting date ({chf(f.advance_next_year)}) "
        f"are a liability at the reporting date and income of {h.year + 1}. Contributions received in "
        f"{h.year - 1} for {h.year} and recognised on 1 January {h.year}: {chf(f.recognised)}.",
    )


def _unidentified(f: NoteFacts) -> tuple[str, ...]:
    if not f.unidentified_count:
        return ("Every receipt of the year was attributed to a State Party.",)
    return (f"{f.unidentified_count} receipt(s) totalling {chf(f.unidentified)} could not yet be attributed to a "
            "State Party; they are income of the year, held in a suspense account until identified.",)


def _charges(f: NoteFacts) -> tuple[str, ...]:
    out = [f"Bank charges of the year: {chf(f.bank_charges)}, of which {chf(f.charges_on_receipts)} deducted by "
           "banks from contributions; contributions are shown gross, the charges as expenditure."]
    if f.negative_interest:
        out.append(f"Negative interest charged on the account: {chf(f.negative_interest)}, shown as expenditure.")
    return tuple(out)


def _buffer(h: ReportHeader, f: NoteFacts) -> tuple[tuple[str, ...], Table]:
    text = (
        "After the 2014 deficit, the 14th Meeting of the States Parties (2015) established a financial security "
        "buffer, held in the fund balance and moved only by decisions cited in Statement III.",
        f"Policy: {f.buffer_policy}.",
    )
    table = Table(
        key="Buffer status", title=f"Note 8 — Status of the financial security buffer, {h.year}",
        columns=("Item", "Amount"),
        rows=(
            (f"Balance at 1 January {h.year}", f.buffer_opening),
            ("Balance at the reporting date", f.buffer_balance),
            ("Target under the policy", f.buffer_target),
            ("Funded (balance / target)", None if f.buffer_funded is None else Percent(f.buffer_funded)),
            (f"Expenditure per month (final budget {h.year} / 12)", f.monthly_expenditure),
            ("Months of expenditure covered", f.buffer_months),
        ),
    )
    return text, table


def _gichd(f: NoteFacts) -> tuple[str, ...]:
    if f.gichd_balance >= 0:
        position = f"an advance to the GICHD of {chf(f.gichd_balance)}"
    else:
        position = f"an amount owed to the GICHD of {chf(-f.gichd_balance)}"
    return (
        "The GICHD hosts the ISU, holds its bank account, administers its expenditure and provides support in "
        "kind (note 10); it is a related party.",
        f"Expenditure reported by the GICHD for the year: {chf(f.gichd_expenditure)}. The balance with the GICHD "
        f"at the reporting date is {position}. No other transactions with related parties took place.",
    )


def _in_kind(h: ReportHeader, items) -> tuple[tuple[str, ...], Table | None]:
    if not items:
        return ("No support in kind is recorded for the year.",), None
    valued = sum((i.value for i in items if i.value is not None), ZERO)
    text = ("Support in kind is disclosed, not recognised in the statements. Values are the providers' or the "
            f"ISU's estimates (basis in the table); estimated value in all: {chf(valued)}.")
    table = Table(
        key="In-kind support", title=f"Note 10 — Support in kind received in {h.year}",
        columns=("Provider", "Nature", "Description", "Estimated value", "Basis"),
        rows=tuple((i.provider, i.nature, i.description, i.value, i.basis) for i in items),
        totals=("Total", "", "", valued, ""),
    )
    return (text,), table


def _late(h: ReportHeader, f: NoteFacts) -> tuple[str, ...]:
    if not f.late:
        return (f"No contributions for earlier work-plan years were received in {h.year}.",)
    parts = "; ".join(
        f"{x.state_party} {chf(x.amount)} "
        + (f"for {x.designated_year} (closed: counted in {h.year})" if x.designated_year else f"for {x.wp_year}")
        for x in f.late
    )
    return (
        "A contribution for an earlier work-plan year counts for that year while it is open; once it is closed "
        "and audited, its figures are never restated, and the receipt counts in the year received.",
        f"Received in {h.year} for earlier work-plan years: {parts}.",
    )


def _after(h: ReportHeader, f: NoteFacts) -> tuple[str, ...]:
    count, amount, until = f.after_date
    if h.status != AUDITED or until is None:
        return ("Preliminary statements: events after the reporting date are reported with the audited statements.",)
    text = (f"No event after the reporting date required an adjustment. Between 1 January {h.year + 1} and the "
            f"date of the auditor's opinion ({until.isoformat()}), {count} contribution receipt(s) totalling "
            f"{chf(amount)} were received; they are reported in the year in which they count.")
    return (text,)


def numbered_notes(h: ReportHeader, f: NoteFacts, in_kind_items) -> tuple[NumberedNote, ...]:
    contributions, pledge_table = _contributions(h, f)
    in_kind, in_kind_table = _in_kind(h, in_kind_items)
    corrections = (f"{f.corrections} correction(s) to earlier entries were booked in the year."
                   if f.corrections else "No corrections to earlier years were booked in the year.")
    parts = [
        ("The reporting entity", _entity(h), None),
        ("Basis of preparation", _basis(h, f), None),
        ("Contributions and pledges", contributions, pledge_table),
        ("Foreign currency", _fx(f), None),
        ("Contributions received in advance", _advances(h, f), None),
        ("Receipts not yet attributed", _unidentified(f), None),
        ("Bank charges and negative interest", _charges(f), None),
        ("Financial security buffer", *_buffer(h, f)),
        ("Related party: the GICHD", _gichd(f), None),
        ("Support in kind", in_kind, in_kind_table),
        ("Late receipts and corrections", (*_late(h, f), corrections), None),
        ("Events after the reporting date", _after(h, f), None),
    ]
    return tuple(NumberedNote(i, title, paragraphs, table) for i, (title, paragraphs, table) in enumerate(parts, start=1))

