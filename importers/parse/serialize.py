"""The ``parse --json`` shape of a ParseResult.

Amounts are strings with exactly two decimals (entry amounts signed), dates
ISO, absent values ``null``; keys in a fixed order, so the output is
stable for users, goldens and diffs.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from importers.model import Balance, Detail, Entry, Money, ParseResult, Statement
from ledger import money


def money_text(value: Decimal | None) -> str | None:
    """Two-decimal string (``ledger.money.text``: half up)."""
    if value is None:
        return None
    return money.text(value)


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _balance(bal: Balance | None) -> dict | None:
    if bal is None:
        return None
    return {"date": _date(bal.date), "amount": money_text(bal.amount)}


def _instructed(money: Money | None) -> dict | None:
    if money is None:
        return None
    return {"amount": money_text(money.amount), "currency": money.currency}


def _detail(d: Detail) -> dict:
    return {
        "amount": money_text(d.amount),
        "payer": d.payer,
        "payer_account": d.payer_account,
        "ultimate_payer": d.ultimate_payer,
        "remittance": d.remittance,
        "reference": d.reference,
        "instructed": _instructed(d.instructed),
        "rate": str(d.rate) if d.rate is not None else None,
        "charges": money_text(d.charges),
    }


def _entry(e: Entry) -> dict:
    return {
        "booked": _date(e.booked),
        "value": _date(e.value),
        "amount": money_text(e.amount),
        "currency": e.currency,
        "status": e.status,
        "reversal": e.reversal,
        "ref": e.ref,
        "details": [_detail(d) for d in e.details],
    }


def _statement(s: Statement) -> dict:
    return {
        "id": s.id,
        "account": s.account,
        "currency": s.currency,
        "opening": _balance(s.opening),
        "closing": _balance(s.closing),
        "balance_ok": s.balance_ok,
        "entries": [_entry(e) for e in s.entries],
    }


def to_json(result: ParseResult) -> dict:
    """The normalised content of a bank file as plain JSON-ready data."""
    return {
        "format": result.format,
        "statements": [_statement(s) for s in result.statements],
        "warnings": list(result.warnings),
    }


def balance_warnings(statements: list[Statement]) -> list[str]:
    """One warning per statement whose booked entries do not lead from opening to closing.

    A mismatch is reported, never repaired: the importer refuses to book such
    a statement (importers/beangulp_importer.py), and ``parse`` shows the numbers.
    """
    out = []
    for stmt in statements:
        if stmt.balance_ok is not False:
            continue
        computed = stmt.opening.amount + sum((e.amount for e in stmt.booked_entries), Decimal(0))
        out.append(
            f"statement {stmt.id or '?'}: balances do not reconcile: opening "
            f"{money_text(stmt.opening.amount)} + booked entries = {money_text(computed)}, "
            f"closing is {money_text(stmt.closing.amount)} "
            f"(difference {money_text(stmt.closing.amount - computed)})"
        )
    return out
