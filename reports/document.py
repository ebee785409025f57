"""Every report as an ordered list of sections, for the PDF, HTML and XLSX
renderers: the Annual Financial Report as published financial statements
(Director's statement, auditor's report, Statements I-IV, numbered notes,
forecast, annexes), the other reports one section per table.

Section and table titles are unique within a report; figures are the
models', never added up here except the statements' subtotals.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.money import ZERO, cents, grouped

from reports.buffer import remaining_share
from reports.financial import day_label
from reports.model import (
    AUDITED,
    AnnualReport,
    BudgetComparison,
    ChangesInNetAssets,
    FinancialPerformance,
    FinancialPosition,
    FinancialStatements,
    Line,
    Section,
    Table,
)
from reports.tables import buffer_tables, line_label, report_tables

NOT_EXPLAINED = "Not yet explained"


def _columns(r: AnnualReport) -> tuple[str, ...]:
    s = r.statements
    prior = () if s.prior_year is None else (str(s.prior_year),)
    return ("", "Note", str(r.header.year), *prior)


def _row(line: Line, with_prior: bool) -> tuple:
    figures = (line.amount, line.prior) if with_prior else (line.amount,)
    return (line.label, "" if line.note is None else str(line.note), *figures)


def _heading_row(label: str, with_prior: bool) -> tuple:
    return (label, "", "", *(("",) if with_prior else ()))


def _sum(lines, attr: str) -> Decimal | None:
    values = [getattr(x, attr) for x in lines]
    if any(v is None for v in values):
        return None
    return sum(values, ZERO)


def _block(title: str, lines, total_label: str, with_prior: bool) -> tuple[list, list[int]]:
    rows, bold = [_heading_row(title, with_prior)], [0]
    rows += [_row(x, with_prior) for x in lines]
    total = Line(total_label, _sum(lines, "amount"), _sum(lines, "prior") if with_prior else None)
    bold.append(len(rows))
    rows.append(_row(total, with_prior))
    return rows, bold


def position_section(r: AnnualReport, p: FinancialPosition) -> Section:
    with_prior = r.statements.prior_year is not None
    assets, bold_a = _block("Assets", p.assets, "Total assets", with_prior)
    liabilities, bold_l = _block("Liabilities", p.liabilities, "Total liabilities", with_prior)
    rows = assets + liabilities
    bold = bold_a + [len(assets) + i for i in bold_l]
    bold.append(len(rows))
    rows.append(_row(p.net_assets, with_prior))
    bold.append(len(rows))
    rows.append(_heading_row("Represented by", with_prior))
    *parts, total = p.fund_balance
    rows += [_row(x, with_prior) for x in parts]
    bold.append(len(rows))
    rows.append(_row(total, with_prior))
    day = day_label(r.header.as_of)
    if p.bank_statement_balance is None:
        proof = "No bank statement balance is recorded by the reporting date."
    else:
        difference = cents(p.bank_balance - p.bank_statement_balance)
        proof = (f"Cash at bank agrees with the closing balance of the UBS statement of "
                 f"{day_label(p.bank_statement_date)}: CHF {grouped(p.bank_statement_balance)}; difference CHF "
                 f"{grouped(difference)}.")
    return Section(
        key="Statement I", title=f"Statement I — Financial position at {day}",
        paragraphs=(proof,),
        tables=(Table(key="Statement I", title=f"Statement I — Financial position at {day} (CHF)",
                      columns=_columns(r), rows=tuple(rows), bold_rows=tuple(bold)),),
    )


def performance_section(r: AnnualReport, p: FinancialPerformance) -> Section:
    with_prior = r.statements.prior_year is not None
    rows, bold = [_heading_row("Receipts", with_prior)], [0]
    rows += [_row(x, with_prior) for x in p.income]
    bold.append(len(rows))
    rows.append(_row(p.total_income, with_prior))
    bold.append(len(rows))
    rows.append(_heading_row("Expenditure", with_prior))
    rows += [_row(Line(line_label(x.label), x.amount, x.prior, note=x.note), with_prior) for x in p.expenditure]
    for line in (p.total_expenditure, p.surplus):
        bold.append(len(rows))
        rows.append(_row(line, with_prior))
    period = ("the year ended 31 December" if r.header.status == AUDITED
              else f"1 January to {day_label(r.header.as_of)}")
    title = f"Statement II — Financial performance, {period} {r.header.year}" if r.header.status == AUDITED \
        else f"Statement II — Financial performance, {period}"
    return Section(
        key="Statement II", title=title,
        paragraphs=("Receipts by the date received, expenditure by budget line as reported by the GICHD "
                    "(modified cash basis, note 2).",),
        tables=(Table(key="Statement II", title=f"{title} (CHF)", columns=_columns(r), rows=tuple(rows),
                      bold_rows=tuple(bold)),),
    )


def changes_section(r: AnnualReport, c: ChangesInNetAssets) -> Section:
    def row(m):
        return (m.label, m.unrestricted, m.buffer, m.total, m.decision)

    rows = (row(c.opening), *(row(m) for m in c.movements), row(c.closing))
    title = f"Statement III — Changes in net assets, {r.header.year}"
    return Section(
        key="Statement III", title=title,
        paragraphs=("Transfers to and from the financial security buffer are made only by the decision cited "
                    "(note 8).",),
        tables=(Table(key="Statement III", title=f"{title} (CHF)",
                      columns=("", "Unrestricted", "Buffer", "Total", "Decision"), rows=rows,
                      bold_rows=(0, len(rows) - 1)),),
    )


def budget_section(r: AnnualReport, b: BudgetComparison) -> Section:
    def row(x):
        explanation = x.explanation or (NOT_EXPLAINED if x.material else "")
        return (line_label(x.line), x.original, x.final, x.actual, x.difference, x.used, explanation)

    rows = tuple(row(x) for x in b.lines)
    decisions = "; ".join(f"{day_label(day)}: {text}" for day, text in b.decisions) or "none recorded"
    title = f"Statement IV — Comparison of budget and actual amounts, {r.header.year}"
    return Section(
        key="Statement IV", title=title,
        paragraphs=(
            f"Budget decisions: {decisions}. The original budget is the first decision, the final budget the "
            "last decision by the reporting date.",
            "Difference = final budget − actual (positive: under budget). A variance is material when it exceeds "
            "10 % of the line's final budget and CHF 5,000; finance staff record the explanation of each.",
        ),
        tables=(Table(key="Statement IV", title=f"{title} (CHF)",
                      columns=("Budget line", "Original budget", "Final budget", "Actual", "Difference", "Used",
                               "Explanation of material variance"),
                      rows=rows, totals=(b.total.line, b.total.original, b.total.final, b.total.actual,
                                         b.total.difference, b.total.used, "")),),
    )


def forecast_section(r: AnnualReport) -> Section:
    y, as_of = r.header.year, r.header.as_of
    share = remaining_share(y, as_of)
    rows = []
    for line in r.budget.lines:
        rest = cents(line.final * share)
        rows.append((line_label(line.line), line.final, line.actual, rest, line.actual + rest))
    totals = ("Total", r.budget.total_final, r.budget.total_actual, sum((x[3] for x in rows), ZERO),
              sum((x[4] for x in rows), ZERO))
    by_line = Table(key="Forecast by line", title=f"Forecast expenditure to 31 December {y}, by budget line (CHF)",
                    columns=("Budget line", "Final budget", "Actual to date", "Rest of the year", "Forecast for the year"),
                    rows=tuple(rows), totals=totals)
    scenarios = [t for t in buffer_tables(r.buffer) if t.key == "Forecast"]
    tables = (by_line, *(Table(key="Forecast scenarios", title=f"Forecast result and buffer at 31 December {y} (CHF)",
                               columns=t.columns, rows=t.rows, note=t.note) for t in scenarios))
    return Section(
        key="Forecast", title=f"Forecast to 31 December {y}",
        paragraphs=(
            f"Income: contributions received to {day_label(as_of)} plus pledges outstanding (CHF "
            f"{grouped(r.forecast.outstanding_pledges)}, pledges in other currencies at the rates recorded with them). "
            "Expenditure: actual to date plus the final budget for the part of the year still to run.",
        ),
        tables=tables,
    )


def _notes_sections(s: FinancialStatements) -> list[Section]:
    out = [Section(key="Notes", title="Notes to the financial statements")]
    for n in s.notes:
        out.append(Section(key=f"Note {n.number}", title=f"Note {n.number} — {n.title}", paragraphs=n.paragraphs,
                           tables=() if n.table is None else (n.table,), level=2))
    return out


def annual_sections(r: AnnualReport) -> list[Section]:
    s = r.statements
    sections = [
        Section(key="Director", title="Statement by the Director", paragraphs=s.certification),
        Section(key="Auditor", title="Report of the auditor" if r.header.status == AUDITED else "Audit status",
                paragraphs=s.auditor_report),
        position_section(r, s.position),
        performance_section(r, s.performance),
        changes_section(r, s.changes),
        budget_section(r, s.budget),
        *_notes_sections(s),
    ]
    if r.forecast is not None:
        sections.append(forecast_section(r))
    sections += [Section(key=t.key, title=t.title.split(" (CHF)")[0], tables=(t,)) for t in s.annexes]
    return sections


def report_sections(report) -> list[Section]:
    if isinstance(report, AnnualReport) and report.statements is not None:
        return annual_sections(report)
    return [Section(key=t.key, title=t.title, tables=(t,)) for t in report_tables(report)]


def section_tables(report) -> list[Table]:
    return [t for s in report_sections(report) for t in s.tables]

