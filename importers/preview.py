"""What a preview shows of an import: the exact booking.

Every transaction that would be booked (credits and debits: bank fees,
charges), signed as on the bank account; the totals; and per statement the
balance proof opening + net = closing, all as two-decimal strings (never a
float). Read from the very entries the import writes, not computed twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from beancount.core import data

from importers.booking import money_text
from importers.model import Statement
from ledger import conventions

ZERO = Decimal("0")


def _bank_amount(txn: data.Transaction) -> Decimal:
    return sum((p.units.number for p in txn.postings if p.account == conventions.BANK and p.units), ZERO)


def _meta_value(txn: data.Transaction, key: str) -> Any:
    """A metadata value of the transaction, else of its first posting that has it."""
    if (txn.meta or {}).get(key) is not None:
        return txn.meta[key]
    return next(((p.meta or {})[key] for p in txn.postings if (p.meta or {}).get(key) is not None), None)


def booking(txn: data.Transaction) -> dict:
    """One transaction as the preview lists it."""
    amount = _bank_amount(txn)
    counter = [p for p in txn.postings if p.account != conventions.BANK]
    return {
        "date": txn.date.isoformat(),
        "amount": money_text(amount),
        "kind": "credit" if amount >= 0 else "debit",
        "bank_ref": (txn.meta or {}).get(conventions.META_BANK_REF),
        "payer": _meta_value(txn, conventions.META_PAYER) or txn.payee,
        "text": txn.narration,
        "accounts": [p.account for p in counter],
        "needs_review": any(p.account == conventions.UNIDENTIFIED for p in counter),
        "instructed": _meta_value(txn, conventions.META_INSTRUCTED),
        "rate": _meta_value(txn, conventions.META_RATE),
    }


def bookings(entries: list) -> list[dict]:
    return [booking(e) for e in sorted(entries, key=data.entry_sortkey) if isinstance(e, data.Transaction)]


def totals(rows: list[dict]) -> dict:
    """Credits, debits (negative) and net of preview rows."""
    amounts = [Decimal(r["amount"]) for r in rows]
    credits = sum((a for a in amounts if a >= 0), ZERO)
    debits = sum((a for a in amounts if a < 0), ZERO)
    return {"credits": money_text(credits), "debits": money_text(debits), "net": money_text(credits + debits)}


def proof(st: Statement) -> dict:
    """The statement's own arithmetic: opening + its booked entries = closing."""
    amounts = [e.amount for e in st.booked_entries]
    credits = sum((a for a in amounts if a >= 0), ZERO)
    debits = sum((a for a in amounts if a < 0), ZERO)
    doc: dict[str, Any] = {
        "statement": st.id,
        "opening": None, "closing": None, "ok": None,
        "credits": money_text(credits), "debits": money_text(debits), "net": money_text(credits + debits),
    }
    if st.opening is not None:
        doc["opening"] = {"date": st.opening.date.isoformat(), "amount": money_text(st.opening.amount)}
    if st.closing is not None:
        doc["closing"] = {"date": st.closing.date.isoformat(), "amount": money_text(st.closing.amount)}
    if st.opening is not None and st.closing is not None:
        doc["ok"] = st.opening.amount + credits + debits == st.closing.amount
    return doc


def proofs(statements: list[Statement]) -> list[dict]:
    return [proof(st) for st in statements if st.kind != "report"]
