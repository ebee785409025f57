"""JSON: the contract of ``report --format json`` (keys may be added, never renamed).

Amounts are two-decimal strings, ratios strings, dates ISO, States alpha-3.
An amount that is not known (a foreign-currency pledge not yet valued) is
``null``.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from ledger import money

from reports.model import (
    OutlookReport,
    FinancialStatements,
    Line,
    Percent,
    Table,
    AnnualReport,
    BudgetReport,
    BufferReport,
    ContributionsReport,
    ReportHeader,
    StatementReport,
)


def amount(value: Decimal | None) -> str | None:
    return None if value is None else money.text(value)


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _head(h: ReportHeader) -> dict[str, Any]:
    out: dict[str, Any] = {
        "report": h.report,
        "year": h.year,
        "currency": h.currency,
        "status": h.status,
        "as_of": h.as_of.isoformat(),
        "ledger_sha256": h.ledger_sha256,
        "ledger_commit": h.commit,
    }
    if h.audit is not None:
        out["audit"] = {
            "auditor": h.audit.auditor,
            "opinion_date": h.audit.opinion_date.isoformat(),
            "fingerprint": h.audit.fingerprint,
            "fingerprint_ok": h.audit.fingerprint_ok,
        }
    return out


def contributions_json(r: ContributionsReport) -> dict[str, Any]:
    out = _head(r.header)
    out["received_to"] = None if r.received_to is None else r.received_to.isoformat()
    out["received_later_for_closed_years"] = {str(y): amount(v) for y, v in r.history_later.items()}
    out["rows"] = [
        {
            "state_party": row.state_party,
            "name": row.name,
            "pledged": amount(row.pledged),
            "received": amount(row.received),
            "outstanding": amount(row.outstanding),
            "advance_next_year": amount(row.advance_next_year),
            "receipts": row.receipts,
            "pledged_original": {c: amount(a) for c, a in row.pledged_original.items()},
            "fx_pending": row.fx_pending,
        }
        for row in r.rows
    ]
    out.update(
        unidentified=amount(r.unidentified),
        total_received=amount(r.total_received),
        total_pledged=amount(r.total_pledged),
        total_outstanding=amount(r.total_outstanding),
        total_advance_next_year=amount(r.total_advance_next_year),
        history={
            "years": list(r.history_years),
            "rows": [
                {"state_party": h.state_party, "name": h.name,
                 "by_year": {str(y): amount(v) for y, v in h.by_year.items()}, "total": amount(h.total)}
                for h in r.history
            ],
            "totals": {str(y): amount(v) for y, v in r.history_totals.items()},
        },
    )
    return out


def budget_json(r: BudgetReport) -> dict[str, Any]:
    out = _head(r.header)
    out["lines"] = [
        {"line": b.line, "account": b.account, "original": amount(b.original), "final": amount(b.final),
         "actual": amount(b.actual), "difference": amount(b.difference), "utilisation": text(b.utilisation)}
        for b in r.lines
    ]
    out["totals"] = {"original": amount(r.total_original), "final": amount(r.total_final),
                     "actual": amount(r.total_actual), "difference": amount(r.total_difference)}
    return out


def buffer_json(r: BufferReport) -> dict[str, Any]:
    out = _head(r.header)
    out.update(
        balance=amount(r.balance),
        target=amount(r.target),
        funded_ratio=text(r.funded_ratio),
        months_covered=text(r.months_covered),
        opening=amount(r.opening),
        monthly_expenditure=amount(r.monthly_expenditure),
        policy=None if r.policy is None else {
            "kind": r.policy.kind, "value": str(r.policy.value), "decision": r.policy.decision,
            "since": r.policy.since.isoformat()},
        movements=[
            {"date": m.date.isoformat(), "amount": amount(m.amount), "balance": amount(m.balance),
             "narration": m.narration, "decision": m.decision}
            for m in r.movements
        ],
        trend=[{"year": y, "balance": amount(v)} for y, v in r.trend],
        forecast={
            "to": datetime.date(r.header.year, 12, 31).isoformat(),
            "scenarios": {
                s.name: {"income": amount(s.income), "expenditure": amount(s.expenditure),
                         "surplus": amount(s.surplus), "buffer": amount(s.buffer_year_end),
                         "funded_ratio": text(s.funded_ratio)}
                for s in r.scenarios
            },
        },
    )
    return out


def statement_json(r: StatementReport) -> dict[str, Any]:
    out = _head(r.header)
    out.update(
        state_party=r.header.state_party,
        name=r.name,
        years=[
            {"wp_year": y.wp_year, "pledged": amount(y.pledged), "received": amount(y.received),
             "outstanding": amount(y.outstanding),
             "receipts": [
                 {"date": x.date.isoformat(), "amount": amount(x.amount), "bank_ref": x.bank_ref,
                  "payer": x.payer, "remittance": x.remittance, "instructed": x.instructed or None,
                  "rate": x.rate or None, "designated_year": x.designated_year,
                  "reversal_of": x.reversal_of or None}
                 for x in y.receipts
             ]}
            for y in r.years
        ],
        total_received=amount(r.total_received),
    )
    return out


def annual_json(r: AnnualReport) -> dict[str, Any]:
    out = _head(r.header)
    f = r.fund_balance
    out.update(
        income={
            "contributions": contributions_json(r.contributions),
            "contributions_booked": amount(r.contributions_booked),
            "unidentified": amount(r.unidentified),
            "interest": amount(r.interest),
            "total": amount(r.total_income),
        },
        expenditure={
            "budget": budget_json(r.budget),
            "bank_charges": amount(r.bank_charges),
            "total": amount(r.total_expenditure),
        },
        fund_balance={k: amount(getattr(f, k)) for k in (
            "opening", "income", "expenditure", "surplus", "other_equity", "closing",
            "buffer_opening", "buffer_closing", "unrestricted_closing")},
        buffer=buffer_json(r.buffer),
        forecast=None if r.forecast is None else {
            "remaining_expenditure": amount(r.forecast.remaining_expenditure),
            "outstanding_pledges": amount(r.forecast.outstanding_pledges),
            "scenarios": buffer_json(r.buffer)["forecast"]["scenarios"],
        },
        notes=[{"title": n.title, "text": n.text, "amount": amount(n.amount)} for n in r.notes],
        negative_interest=amount(r.negative_interest),
        other_expenditure=amount(r.other_expenditure),
    )
    if r.statements is not None:
        out["statements"] = statements_json(r.statements)
    return out


def _line(x: Line) -> dict[str, Any]:
    return {"label": x.label, "amount": amount(x.amount), "prior": amount(x.prior), "note": x.note}


def _table_json(t: Table) -> dict[str, Any]:
    def cell(v):
        if isinstance(v, Percent):
            return str(v.fraction)
        if isinstance(v, Decimal):
            return amount(v) if v.as_tuple().exponent == -2 else str(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        return v

    return {"title": t.title, "columns": list(t.columns), "rows": [[cell(v) for v in row] for row in t.rows],
            "totals": None if t.totals is None else [cell(v) for v in t.totals]}


def statements_json(s: FinancialStatements) -> dict[str, Any]:
    p, f, c, b = s.position, s.performance, s.changes, s.budget

    def move(m):
        return {"label": m.label, "unrestricted": amount(m.unrestricted), "buffer": amount(m.buffer),
                "total": amount(m.total), "decision": m.decision}

    def budget_line(x):
        return {"line": x.line, "original": amount(x.original), "final": amount(x.final), "actual": amount(x.actual),
                "difference": amount(x.difference), "used": None if x.used is None else str(x.used.fraction),
                "material": x.material, "explanation": x.explanation}

    return {
        "prior_year": s.prior_year,
        "certification": list(s.certification),
        "auditor_report": list(s.auditor_report),
        "financial_position": {
            "assets": [_line(x) for x in p.assets], "liabilities": [_line(x) for x in p.liabilities],
            "net_assets": _line(p.net_assets), "fund_balance": [_line(x) for x in p.fund_balance],
            "bank_balance": amount(p.bank_balance), "bank_statement_balance": amount(p.bank_statement_balance),
            "bank_statement_date": None if p.bank_statement_date is None else p.bank_statement_date.isoformat(),
        },
        "financial_performance": {
            "income": [_line(x) for x in f.income], "total_income": _line(f.total_income),
            "expenditure": [_line(x) for x in f.expenditure], "total_expenditure": _line(f.total_expenditure),
            "surplus": _line(f.surplus),
        },
        "changes_in_net_assets": {"opening": move(c.opening), "movements": [move(m) for m in c.movements],
                                  "closing": move(c.closing)},
        "budget_comparison": {"lines": [budget_line(x) for x in b.lines], "total": budget_line(b.total),
                              "decisions": [{"date": d.isoformat(), "decision": t} for d, t in b.decisions]},
        "notes": [{"number": n.number, "title": n.title, "paragraphs": list(n.paragraphs),
                   "table": None if n.table is None else _table_json(n.table)} for n in s.notes],
        # Annex 3 (the books' fingerprint and commit) is the header's ledger_sha256, ledger_commit and audit.
        "annexes": [_table_json(t) for t in s.annexes if t.key != "Annex 3"],
        "contributing_states": s.contributing_states,
        "states_parties": s.states_parties,
    }


def outlook_json(r: OutlookReport) -> dict[str, Any]:
    out = _head(r.header)
    out.update(
        budget=amount(r.budget), received=amount(r.received), outstanding_pledges=amount(r.outstanding_pledges),
        secured=amount(r.secured), secured_share=text(r.secured_share), overdue=amount(r.overdue),
        unvalued_pledges=r.unvalued_pledges, fund_balance_now=amount(r.fund_balance_now),
        remaining_expenditure=amount(r.remaining_expenditure),
        previous_same_date={str(y): amount(v) for y, v in zip(r.previous_years, r.previous_same_date, strict=True)},
        months=[{"month": m.month, "received": amount(m.received), "cumulative": amount(m.cumulative),
                 "previous": {str(y): amount(v) for y, v in zip(r.previous_years, m.previous, strict=False)},
                 "expected_pledges": amount(m.expected_pledges)} for m in r.months],
        states=[{"state_party": s.state_party, "name": s.name, "received": amount(s.received),
                 "pledged": amount(s.pledged), "outstanding": amount(s.outstanding),
                 "expected": None if s.expected is None else s.expected.isoformat(), "overdue": s.overdue,
                 "usual": amount(s.usual), "usual_rest": amount(s.usual_rest)} for s in r.states],
        scenarios=[{"name": s.name, "label": s.label, "income_to_come": amount(s.income_to_come),
                    "year_income": amount(s.year_income), "year_expenditure": amount(s.year_expenditure),
                    "surplus": amount(s.surplus), "fund_balance_year_end": amount(s.fund_balance_year_end),
                    "buffer_year_end": amount(s.buffer_year_end)} for s in r.scenarios],
    )
    return out


_BY_TYPE = {
    OutlookReport: outlook_json,
    ContributionsReport: contributions_json,
    BudgetReport: budget_json,
    BufferReport: buffer_json,
    StatementReport: statement_json,
    AnnualReport: annual_json,
}


def to_json(report) -> dict[str, Any]:
    return _BY_TYPE[type(report)](report)


def render_json(report) -> bytes:
    return (json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
