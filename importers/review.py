"""The review queue: receipts booked to ``Income:Contributions:Unidentified``.

Unidentified receipts are booked, not parked (docs/booking.md): the queue
is simply every suspense posting in the books, so it can never disagree with
them. Resolving an item rewrites that one transaction through the writer -
the suspense posting becomes an attributed contribution posting, the bank
posting stays exactly as the bank reported it - and, with ``--remember``,
teaches the importer a rule in the same commit.

Item ids must survive unrelated writes and new runs (staff copy them from
one screen to a command line), so they are derived from what identifies the
posting on the bank side - bank account, bank reference, index among the
transaction's suspense postings - never from a file position. Eight hex
digits of a SHA-256 keep them short and typeable.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beancount.core import data

from importers.booking import attributed_posting, money_text
from ledger import conventions
from ledger.loader import load_books
from ledger.plugins.year_lock import locked_years

FIRST_YEAR = 1999  # the Convention entered into force on 1 March 1999
MAX_YEARS_AHEAD = 3  # an advance for more than three work plans ahead is a typo
_SUGGESTION_KEYS = (
    "suggest_state_party", "suggest_year", conventions.META_SUGGEST_CONFLICT, conventions.META_CONFIDENCE,
    conventions.META_WHY,
)  # fmt: skip


class ReviewRefused(Exception):
    """A resolve that cannot be done; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class ReviewItem:
    id: str
    txn: data.Transaction
    index: int  # posting index in txn.postings
    posting: data.Posting

    def to_json(self) -> dict:
        meta = self.posting.meta or {}
        suggestion = None
        if meta.get("suggest_state_party"):
            year = meta.get("suggest_year")
            suggestion = {
                "state_party": meta["suggest_state_party"],
                "year": int(year) if year is not None else None,
                "confidence": str(meta.get(conventions.META_CONFIDENCE, "")) or None,
                "why": meta.get(conventions.META_WHY),
                # the payer's own account or address points to another State:
                # shown as a conflict, never pre-filled for a one-click accept
                "conflict": meta.get(conventions.META_SUGGEST_CONFLICT),
            }
        return {
            "id": self.id,
            "date": self.txn.date.isoformat(),
            "amount": money_text(-self.posting.units.number),
            "currency": self.posting.units.currency,
            "payer": meta.get(conventions.META_PAYER),
            "payer_account": meta.get(conventions.META_PAYER_ACCOUNT),
            "remittance": meta.get(conventions.META_REMITTANCE),
            "suggestion": suggestion,
        }


def item_id(bank_account: str, bank_ref: str, n: int) -> str:
    digest = hashlib.sha256(f"{bank_account}\x1f{bank_ref}\x1f{n}".encode()).hexdigest()
    return digest[:8]


def review_items(entries: list) -> list[ReviewItem]:
    """Every suspense posting, oldest first, except a receipt and its
    reversal that both stayed unidentified (they cancel out)."""
    reversed_refs = {
        e.meta[conventions.META_REVERSAL_OF]
        for e in entries
        if isinstance(e, data.Transaction) and e.meta.get(conventions.META_REVERSAL_OF)
        and any(p.account == conventions.UNIDENTIFIED for p in e.postings)
    }
    items = []
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        meta = entry.meta or {}
        ref = meta.get(conventions.META_BANK_REF)
        if not ref or ref in reversed_refs or meta.get(conventions.META_REVERSAL_OF) in reversed_refs:
            continue
        n = 0
        for index, posting in enumerate(entry.postings):
            if posting.account != conventions.UNIDENTIFIED:
                continue
            items.append(ReviewItem(item_id(meta.get(conventions.META_ACCOUNT, ""), ref, n), entry, index, posting))
            n += 1
    return items


def list_items(ledger_dir: Path | str) -> list[dict]:
    """``review list --json``: the queue in the contract shape."""
    return [item.to_json() for item in review_items(load_books(ledger_dir).entries)]


def _clean(meta: dict | None) -> dict:
    return {k: v for k, v in (meta or {}).items() if k not in ("filename", "lineno") and not k.startswith("__")}


def resolved_transaction(
    item: ReviewItem, state_party: str, year: int, work_plan: str, user: str, locked_years
) -> data.Transaction:
    """The item's transaction with its suspense posting attributed."""
    base = {k: v for k, v in _clean(item.posting.meta).items() if k not in _SUGGESTION_KEYS}
    placed = attributed_posting(
        state_party,
        year,
        work_plan,
        item.posting.units.number,
        base,
        item.txn.date,
        locked_years,
        why=f"resolved by {user}",
    )
    postings = [
        data.Posting(p.account, p.units, p.cost, p.price, p.flag, _clean(p.meta) or None)
        for p in item.txn.postings
    ]
    postings[item.index] = placed.posting
    open_items = any(p.account in (conventions.UNIDENTIFIED, conventions.UNRECONCILED) for p in postings)
    return item.txn._replace(
        meta=_clean(item.txn.meta),
        flag="!" if open_items else "*",
        tags=frozenset(item.txn.tags or ()) | {conventions.year_tag(placed.year)},
        postings=postings,
    )


@dataclass(frozen=True)
class Resolved:
    id: str
    bank_ref: str
    state_party: str
    wp_year: int
    account: str
    rule: Any | None
    commit: str | None


def resolve(
    ledger_dir: Path | str,
    item: str,
    *,
    state_party: str,
    year: int,
    work_plan: str = conventions.DEFAULT_WORK_PLAN,
    remember: bool = False,
    user: str,
) -> Resolved:
    """Attribute review item ``item``; one commit, with the rule when ``remember``."""
    from ledger.registry import Registry
    from importers.learned_rules import load_rules
    from ledger.rules import Rule, add_rule, render_rules
    from ledger.store.writer import LedgerWriter

    ledger_dir = Path(ledger_dir).resolve()
    books = load_books(ledger_dir)
    found = [i for i in review_items(books.entries) if i.id == item.strip().lower()]
    if not found:
        raise ReviewRefused(f"{item}: no such review item (see 'review list')")
    target = found[0]
    state_party = state_party.strip().upper()
    registry = Registry.load(ledger_dir)
    if registry.get(state_party) is None:
        raise ReviewRefused(f"{state_party}: not a State Party or contributor in the registry")
    booking_year = target.txn.date.year
    if not FIRST_YEAR <= year <= booking_year + MAX_YEARS_AHEAD:
        raise ReviewRefused(
            f"{year}: not a plausible work-plan year for a receipt of {target.txn.date} "
            f"({FIRST_YEAR}..{booking_year + MAX_YEARS_AHEAD})"
        )
    if work_plan not in conventions.WORK_PLANS:
        raise ReviewRefused(f"{work_plan}: unknown work plan (known: {', '.join(sorted(conventions.WORK_PLANS))})")
    locked = frozenset(locked_years(books.entries))
    if booking_year in locked:
        raise ReviewRefused(f"{item}: the receipt is dated in {booking_year}, a signed-off year")
    new_txn = resolved_transaction(target, state_party, year, work_plan, user, locked)
    meta = target.posting.meta or {}
    rule = None
    if remember:
        account = meta.get(conventions.META_PAYER_ACCOUNT)
        name = meta.get(conventions.META_PAYER)
        if not account and not name:
            raise ReviewRefused(f"{item}: the receipt names no payer or payer account to remember")
        rule = Rule(
            payer_account=account or None,
            payer_name=None if account else name,
            state_party=state_party,
            work_plan=work_plan,
            created_by=user,
            created_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
            note=f"review {target.id} of {target.txn.meta.get(conventions.META_BANK_REF)}",
        )
    ref = target.txn.meta.get(conventions.META_BANK_REF)
    with LedgerWriter(ledger_dir, user=user, action=f"review resolve {target.id} {ref} -> {state_party} {year}") as writer:
        writer.replace_entry(target.txn, new_txn)
        if rule is not None:
            writer.write_text(conventions.RULES_FILE, render_rules(add_rule(load_rules(ledger_dir), rule)))
    placed = new_txn.postings[target.index]
    return Resolved(
        id=target.id,
        bank_ref=ref,
        state_party=state_party,
        wp_year=int(placed.meta[conventions.META_WP_YEAR]),
        account=placed.account,
        rule=rule,
        commit=writer.commit,
    )
