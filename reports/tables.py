"""The sections of each report as tables, for the XLSX, PDF and HTML renderers.

One ``Table`` per section (one XLSX sheet, one PDF/HTML table), its totals row
computed here from the same model figures, so every renderer shows the same
numbers and none of them adds anything up itself.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ledger.money import grouped

from reports.base import ratio as ratio_of
from reports.model import (
    OutlookReport,
    Percent,
    AnnualReport,
    BudgetReport,
    BufferReport,
    ContributionsReport,
    StatementReport,
    Table,
)


def _percent(fraction: Decimal | None) -> Percent | None:
    return None if fraction is None else Percent(fraction)


def line_label(leaf: str) -> str:
    """A budget line's leaf account name as words: "GICHDServices" -> "GICHD services"."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+", leaf)
    if not words:
        return leaf
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]


def policy_text(r: BufferReport) -> str:
    p = r.policy
    if p is None:
        return "none recorded"
    if p.kind == "months":
        rule = f"{p.value.normalize():f} months of expenditure"
    elif p.kind == "share":
        rule = f"{(p.value * 100).normalize():f} % of the annual budget"
    else:
        rule = f"CHF {grouped(p.value)}"
    return f"{rule} ({p.decision})" if p.decision else rule


def pledge_cells(row) -> tuple:
    """The pledged cell of a contributions row: "—" (None) when the State pledged nothing."""
    return (row.pledged if row.pledged_original else None,)


def contributions_tables(r: ContributionsReport) -> list[Table]:
    y = r.header.year
    main = Table(
        key="Contributions",
        title=f"Contributions for the {y} work plan, by State Party (CHF)",
        columns=("State Party", "Name", "Pledged", "Received", "Outstanding", f"Received for {y + 1}"),
        rows=tuple((c.state_party, c.name, *pledge_cells(c), c.received, c.outstanding if c.pledged_original else None,
                    c.advance_next_year) for c in r.rows),
        totals=("Total", "", r.total_pledged, r.total_received, r.total_outstanding, r.total_advance_next_year),
        note=(f"Receipts for the {y} work plan counted up to {r.received_to or r.header.as_of}. "
              f"Unidentified receipts booked in {y}, not included above: CHF {grouped(r.unidentified)}. "
              "A pledge in another currency counts at the rate recorded with it; "
              "“—”: no pledge, or a pledge in another currency with no rate recorded and nothing paid yet."),
    )
    years = r.history_years
    history = Table(
        key="History",
        title="Contributions received by work-plan year (CHF)",
        columns=("State Party", "Name", *(str(v) for v in years), "Total"),
        rows=tuple((h.state_party, h.name, *(h.by_year[v] for v in years), h.total) for h in r.history),
        totals=("Total", "", *(r.history_totals[v] for v in years), sum(r.history_totals.values()) if years else ""),
        note=("A closed year's figure is its audited figure; receipts for it after it was closed count in the "
              "year received (designated to it): "
              + ("; ".join(f"for {y}: CHF {grouped(v)}" for y, v in r.history_later.items()) or "none") + "."),
    )
    return [main, history]


def budget_tables(r: BudgetReport) -> list[Table]:
    return [Table(
        key="Budget",
        title=f"Budget and actual expenditure {r.header.year}, by budget line (CHF)",
        columns=("Budget line", "Original budget", "Final budget", "Actual", "Difference", "Used"),
        rows=tuple((line_label(b.line), b.original, b.final, b.actual, b.difference, _percent(b.utilisation)) for b in r.lines),
        totals=("Total", r.total_original, r.total_final, r.total_actual, r.total_difference,
                _percent(ratio_of(r.total_actual, r.total_final))),
        note="Difference = final budget - actual (positive: under budget). Used = actual / final budget.",
    )]


def buffer_tables(r: BufferReport) -> list[Table]:
    policy = policy_text(r)
    status = Table(
        key="Buffer",
        title="Financial security buffer (CHF)",
        columns=("Item", "Value"),
        rows=(
            ("Policy", policy),
            (f"Balance at 1 January {r.header.year}", r.opening),
            ("Balance", r.balance),
            ("Target", r.target),
            ("Funded ratio", _percent(r.funded_ratio)),
            (f"Expenditure per month (final budget {r.header.year} / 12)", r.monthly_expenditure),
            ("Months of expenditure covered", r.months_covered),
        ),
    )
    moves = Table(
        key="Movements",
        title="Buffer movements (CHF)",
        columns=("Date", "Movement", "Balance", "Description", "Decision"),
        rows=tuple((m.date, m.amount, m.balance, m.narration, m.decision) for m in r.movements),
        totals=("Balance", sum((m.amount for m in r.movements), r.balance - r.balance), r.balance, "", ""),
    )
    tables = [status, moves]
    if r.scenarios:
        tables.append(Table(
            key="Forecast",
            title=f"Forecast to 31 December {r.header.year} (CHF)",
            columns=("Scenario", "Income", "Expenditure", "Surplus", "Buffer at year end", "Funded ratio"),
            rows=tuple((s.name.replace("_", " "), s.income, s.expenditure, s.surplus, s.buffer_year_end, _percent(s.funded_ratio))
                       for s in r.scenarios),
            note="Expenditure: actual to date plus the final budget for the part of the year still to run.",
        ))
    return tables


def statement_tables(r: StatementReport) -> list[Table]:
    summary = Table(
        key="Summary",
        title=f"{r.name} ({r.header.state_party}): contributions by work-plan year (CHF)",
        columns=("Work-plan year", "Pledged", "Received", "Outstanding"),
        rows=tuple((y.wp_year, y.pledged, y.received, y.outstanding) for y in r.years),
        totals=("Total", "", r.total_received, ""),
    )
    receipts = Table(
        key="Receipts",
        title="Receipts",
        columns=("Date", "Work-plan year", "Amount", "Bank reference", "Payer", "Remittance", "Instructed", "Note"),
        rows=tuple(
            (x.date, x.wp_year, x.amount, x.bank_ref, x.payer, x.remittance, x.instructed,
             f"reversal of {x.reversal_of}" if x.reversal_of else
             (f"meant for {x.designated_year}" if x.designated_year else ""))
            for y in r.years for x in y.receipts
        ),
        totals=("Total", "", r.total_received, "", "", "", "", ""),
    )
    return [summary, receipts]


def annual_tables(r: AnnualReport) -> list[Table]:
    f = r.fund_balance
    income = Table(
        key="Income",
        title="Income (CHF)",
        columns=("Item", "Amount"),
        rows=(
            ("Contributions booked in the year", r.contributions_booked),
            ("Unidentified receipts (suspense)", r.unidentified),
            ("Interest and other income", r.interest),
        ),
        totals=("Total income", r.total_income),
    )
    expenditure = Table(
        key="Expenditure",
        title="Expenditure (CHF)",
        columns=("Item", "Amount"),
        rows=(("Budget lines (see Budget)", r.budget.total_actual), ("Bank charges", r.bank_charges)),
        totals=("Total expenditure", r.total_expenditure),
    )
    fund = Table(
        key="Fund balance",
        title="Fund balance (net assets, CHF)",
        columns=("Item", "Amount"),
        rows=(
            ("Opening fund balance, 1 January", f.opening),
            ("Income", f.income),
            ("Expenditure", -f.expenditure),
            ("Surplus (deficit)", f.surplus),
            ("Other movements in equity", f.other_equity),
            ("Closing fund balance", f.closing),
            ("of which financial security buffer", f.buffer_closing),
            ("of which unrestricted", f.unrestricted_closing),
        ),
    )
    notes = Table(
        key="Notes",
        title="Notes",
        columns=("Note", "Text", "Amount"),
        rows=tuple((n.title, n.text, n.amount) for n in r.notes),
    )
    tables = [income, *contributions_tables(r.contributions), *budget_tables(r.budget), expenditure, fund,
              *buffer_tables(r.buffer), notes]
    if r.forecast is not None:
        tables.insert(-1, Table(
            key="Year-end forecast",
            title=f"Forecast to 31 December {r.header.year} (CHF)",
            columns=("Item", "Amount"),
            rows=(("Budgeted expenditure for the rest of the year", r.forecast.remaining_expenditure),
                  ("Outstanding pledges", r.forecast.outstanding_pledges)),
        ))
    return tables


MONTHS = ("Before 1 January", "January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def outlook_tables(r: OutlookReport) -> list[Table]:
    y = r.header.year
    summary = Table(
        key="Outlook", title=f"Funding outlook for the {y} work plan (CHF)",
        columns=("Item", "Amount"),
        rows=(
            (f"Final budget {y}", r.budget),
            ("Received", r.received),
            ("Pledged, not yet paid", r.outstanding_pledges),
            ("Secured (received and pledged)", r.secured),
            ("Share of the budget secured", _percent(r.secured_share)),
            ("Of the unpaid pledges, overdue", r.overdue),
            *((f"Received for {p} by the same date of {p}", v) for p, v in zip(r.previous_years, r.previous_same_date,
                                                                              strict=True)),
            ("Fund balance (net assets) today", r.fund_balance_now),
            ("Final budget for the rest of the year", r.remaining_expenditure),
        ),
        note=("Pledges in other currencies at the rates recorded with them"
              + (f"; {r.unvalued_pledges} pledge(s) without a rate are not counted." if r.unvalued_pledges else ".")),
    )
    months = Table(
        key="By month", title=f"Receipts for {y} by month, against earlier years (CHF)",
        columns=("Month", "Received", f"Cumulative {y}", *(f"Cumulative {p}" for p in r.previous_years),
                 "Unpaid pledges expected"),
        rows=tuple((MONTHS[m.month], m.received, m.cumulative if m.cumulative is not None else "",
                    *(v if v is not None else "" for v in m.previous[:len(r.previous_years)]), m.expected_pledges)
                   for m in r.months),
        note="Earlier years: receipts for that work-plan year by the end of the same month of that year.",
    )
    scenarios = Table(
        key="Scenarios", title=f"Projected result at 31 December {y} (CHF)",
        columns=("Scenario", "Still to come", "Income for the year", "Expenditure for the year", "Surplus (deficit)",
                 "Fund balance at 31 December", "Buffer at 31 December"),
        rows=tuple((s.label, s.income_to_come, s.year_income, s.year_expenditure, s.surplus, s.fund_balance_year_end,
                    s.buffer_year_end) for s in r.scenarios),
        note=("Expenditure: booked to date plus the final budget for the part of the year still to run. At year end "
              "a surplus goes to the buffer up to its target, a deficit is covered from it (close-year)."),
    )
    states = Table(
        key="States", title=f"Contributions and pledges for {y}, by State Party (CHF)",
        columns=("State Party", "Received", "Pledged", "Outstanding", "Expected", "Overdue", "Average of 3 years",
                 "Of which after this date"),
        rows=tuple((s.name, s.received, s.pledged, s.outstanding, s.expected or "", "overdue" if s.overdue else "",
                    s.usual, s.usual_rest) for s in r.states),
        totals=("Total", r.received, "", r.outstanding_pledges, "", "", "",
                sum((s.usual_rest for s in r.states), r.received - r.received)),
    )
    return [summary, months, scenarios, states]


_BY_TYPE = {
    OutlookReport: outlook_tables,
    ContributionsReport: contributions_tables,
    BudgetReport: budget_tables,
    BufferReport: buffer_tables,
    StatementReport: statement_tables,
    AnnualReport: annual_tables,
}


def report_tables(report) -> list[Table]:
    return _BY_TYPE[type(report)](report)


def title(report) -> str:
    h = report.header
    names = {
        "contributions": "Contributions",
        "budget": "Budget and actual expenditure",
        "buffer": "Financial security buffer",
        "statement": "Statement of contributions",
        "annual": "Annual Financial Report",
        "outlook": "Funding outlook",
    }
    return f"ISU — {names[h.report]} {h.year}"
