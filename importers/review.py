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
    """A resolve or undo that cannot be done; ``str()`` is the one-line reason
    (as the CLI prints it). ``reason`` is the same without the item id and
    ``receipt`` names the receipt for people (see :func:`receipt_label`)."""

    def __init__(self, message: str, *, reason: str | None = None, receipt: str | None = None):
        super().__init__(message)
        self.reason = reason or message
        self.receipt = receipt


def receipt_label(date: datetime.date, amount, currency: str, payer: str | None) -> str:
    """A receipt as people name it: "2025-07-10, 2,000.00 CHF from ACME TRADING SARL"."""
    from ledger.money import grouped

    return f"{date.isoformat()}, {grouped(amount)} {currency}" + (f" from {payer}" if payer else "")


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

    @property
    def label(self) -> str:
        meta = self.posting.meta or {}
        return receipt_label(self.txn.date, -self.posting.units.number, self.posting.units.currency, meta.get(conventions.META_PAYER))


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
    """``review list --json``: the queue in the contract shape, each item
    with its reasoning as plain facts (:func:`explained`)."""
    from ledger.registry import Registry

    registry = Registry.load(ledger_dir)
    return [explained(item, registry) for item in review_items(load_books(ledger_dir).entries)]


def explained(item: ReviewItem, registry) -> dict:
    """The item's JSON plus what people read: ``label`` (date, amount,
    payer), ``why`` (the importer's full reasoning), ``facts`` (the same as
    short sentences), and in the suggestion the State's ``name`` and any
    ``conflict`` (evidence pointing to several States, in words) - a
    conflict is never accepted in one click."""
    from importers.explain import conflict, facts

    name_of = registry.display_name
    out = item.to_json()
    why = (item.posting.meta or {}).get(conventions.META_WHY)
    out["label"] = item.label
    out["why"] = why
    out["facts"] = [f.to_json() for f in facts(why, name_of)]
    suggestion = out.get("suggestion")
    if suggestion:
        suggestion["name"] = name_of(suggestion["state_party"])
        # The conflict its reasoning states, in State names ("Evidence points to Germany and Spain");
        # else the importer's own flag (the payer's account contradicts the suggestion), in its words.
        given = suggestion.get("conflict")
        if given and not isinstance(given, str):
            given = "the evidence points to more than one State"
        suggestion["conflict"] = conflict(suggestion.get("why") or why, name_of) or given
    return out


def _clean(meta: dict | None) -> dict:
    return {k: v for k, v in (meta or {}).items() if k not in ("filename", "lineno") and not k.startswith("__")}


def resolved_transaction(
    item: ReviewItem, state_party: str, year: int, work_plan: str, user: str, locked_years,
    txn: data.Transaction | None = None,
) -> data.Transaction:
    """The item's transaction (or ``txn``, the same one with other items
    already attributed) with its suspense posting attributed."""
    txn = txn or item.txn
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
    postings = list(_plain(txn).postings)
    postings[item.index] = placed.posting
    open_items = any(p.account in (conventions.UNIDENTIFIED, conventions.UNRECONCILED) for p in postings)
    return txn._replace(
        meta=_clean(txn.meta),
        flag="!" if open_items else "*",
        tags=frozenset(txn.tags or ()) | {conventions.year_tag(placed.year)},
        postings=postings,
    )


def _plain(txn: data.Transaction) -> data.Transaction:
    """``txn`` without the loader's bookkeeping metadata (file, line), as it is written."""
    return txn._replace(
        meta=_clean(txn.meta),
        postings=[data.Posting(p.account, p.units, p.cost, p.price, p.flag, _clean(p.meta) or None) for p in txn.postings],
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
    label: str = ""  # the receipt, for people (receipt_label)
    designated_year: int | None = None  # the signed-off year asked for, when booked in wp_year instead


@dataclass(frozen=True)
class Choice:
    """One decision of a resolve: review item ``item`` is State ``state_party``'s, for ``year``."""

    item: str
    state_party: str
    year: int
    work_plan: str = conventions.DEFAULT_WORK_PLAN
    remember: bool = False


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
    return resolve_many(ledger_dir, [Choice(item, state_party, year, work_plan, remember)], user=user)[0]


def resolve_many(ledger_dir: Path | str, choices: list[Choice], *, user: str) -> list[Resolved]:
    """Attribute every review item of ``choices`` in one commit (with the
    rules of those to remember), or none: the first refusal writes nothing."""
    from importers.learned_rules import load_rules
    from ledger.registry import Registry
    from ledger.rules import add_rule, render_rules
    from ledger.store.writer import LedgerWriter

    ledger_dir = Path(ledger_dir).resolve()
    books = load_books(ledger_dir)
    queue = {i.id: i for i in review_items(books.entries)}
    registry = Registry.load(ledger_dir)
    locked = frozenset(locked_years(books.entries))
    if not choices:
        raise ReviewRefused("no receipt chosen")
    planned: list[tuple[ReviewItem, Choice]] = []
    for choice in choices:
        target = queue.get(choice.item.strip().lower())
        if target is None:
            raise ReviewRefused(f"{choice.item}: no such review item (see 'review list')",
                                reason="the receipt is no longer in the review queue (resolved meanwhile?)")
        if any(t.id == target.id for t, _ in planned):
            raise ReviewRefused(f"{target.id}: chosen twice", reason="chosen twice", receipt=target.label)
        planned.append((target, _checked(target, choice, registry, locked)))
    changed: dict[int, tuple[data.Transaction, data.Transaction]] = {}
    for target, choice in planned:
        old, base = changed.get(id(target.txn), (target.txn, target.txn))
        new = resolved_transaction(target, choice.state_party, choice.year, choice.work_plan, user, locked, base)
        changed[id(target.txn)] = (old, new)
    rules = {target.id: _rule(target, choice, user) for target, choice in planned if choice.remember}
    if len(planned) == 1:
        target, choice = planned[0]
        ref = target.txn.meta.get(conventions.META_BANK_REF)
        action = f"review resolve {target.id} {ref} -> {choice.state_party} {choice.year}"
    else:
        action = f"review resolve {len(planned)} items: " + ", ".join(
            f"{t.id} -> {c.state_party} {c.year}" for t, c in planned
        )
    with LedgerWriter(ledger_dir, user=user, action=action) as writer:
        for old, new in changed.values():
            writer.replace_entry(old, new)
        if rules:
            learned = load_rules(ledger_dir)  # under the writer's lock: a rule learned meanwhile is kept
            for rule in rules.values():
                learned = add_rule(learned, rule)
            writer.write_text(conventions.RULES_FILE, render_rules(learned))
    done = []
    for target, choice in planned:
        placed = changed[id(target.txn)][1].postings[target.index]
        designated = placed.meta.get(conventions.META_DESIGNATED_YEAR)
        done.append(Resolved(
            id=target.id,
            bank_ref=target.txn.meta.get(conventions.META_BANK_REF),
            state_party=choice.state_party,
            wp_year=int(placed.meta[conventions.META_WP_YEAR]),
            account=placed.account,
            rule=rules.get(target.id),
            commit=writer.commit,
            label=target.label,
            designated_year=int(designated) if designated is not None else None,
        ))
    return done


def _checked(target: ReviewItem, choice: Choice, registry, locked: frozenset[int]) -> Choice:
    """``choice`` with its State code normalised, or ReviewRefused naming the receipt."""

    def refuse(message: str, reason: str | None = None) -> ReviewRefused:
        return ReviewRefused(message, reason=reason or message, receipt=target.label)

    state_party = choice.state_party.strip().upper()
    if registry.get(state_party) is None:
        raise refuse(f"{state_party}: not a State Party or contributor in the registry")
    booking_year = target.txn.date.year
    if not FIRST_YEAR <= choice.year <= booking_year + MAX_YEARS_AHEAD:
        raise refuse(
            f"{choice.year}: not a plausible work-plan year for a receipt of {target.txn.date} "
            f"({FIRST_YEAR}..{booking_year + MAX_YEARS_AHEAD})"
        )
    if choice.work_plan not in conventions.WORK_PLANS:
        raise refuse(f"{choice.work_plan}: unknown work plan (known: {', '.join(sorted(conventions.WORK_PLANS))})")
    if booking_year in locked:
        raise refuse(f"{choice.item}: the receipt is dated in {booking_year}, a signed-off year",
                     f"the receipt is dated in {booking_year}, a signed-off year: it cannot change")
    meta = target.posting.meta or {}
    if choice.remember and not meta.get(conventions.META_PAYER_ACCOUNT) and not meta.get(conventions.META_PAYER):
        raise refuse(f"{choice.item}: the receipt names no payer or payer account to remember",
                     "the receipt names no payer or payer account to remember")
    return Choice(target.id, state_party, choice.year, choice.work_plan, choice.remember)


def _rule(target: ReviewItem, choice: Choice, user: str):
    from ledger.rules import Rule

    meta = target.posting.meta or {}
    account = meta.get(conventions.META_PAYER_ACCOUNT)
    return Rule(
        payer_account=account or None,
        payer_name=None if account else meta.get(conventions.META_PAYER),
        state_party=choice.state_party,
        work_plan=choice.work_plan,
        created_by=user,
        created_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        note=f"review {target.id} of {target.txn.meta.get(conventions.META_BANK_REF)}",
    )
