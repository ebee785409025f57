"""Undo a review decision: the receipt goes back to the review queue exactly
as the importer left it (suspense posting, suggestion and reasoning), and a
rule learned by the decision is forgotten - one new commit through the
writer, so the history keeps both the decision and its reversal.

The receipt as it was comes from git: the decision's commit and its parent
hold the transaction after and before it. The undo is refused when the
receipt changed after the decision (undo the later change first) and when it
is dated in a signed-off year (audited figures are never restated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beancount.core import data
from beancount.parser import parser

from importers.review import ReviewRefused, _plain, receipt_label, review_items
from ledger import conventions
from ledger.loader import load_books
from ledger.plugins.year_lock import locked_years


@dataclass(frozen=True)
class Undone:
    id: str
    bank_ref: str | None
    label: str
    commit: str | None
    rule_forgotten: bool


def undo(ledger_dir: Path | str, decision_commit: str, item: str, *, user: str) -> Undone:
    """Put review item ``item``, resolved by ``decision_commit``, back in the queue; one commit."""
    from importers.learned_rules import load_rules
    from ledger.rules import parse_rules, render_rules
    from ledger.store import gitrepo
    from ledger.store.writer import LedgerWriter, render_entry

    ledger_dir = Path(ledger_dir).resolve()
    commit = (decision_commit or "").strip()
    if not commit:
        raise ReviewRefused("the decision has no ledger commit to undo")
    try:
        files = gitrepo.run(ledger_dir, "diff-tree", "--no-commit-id", "--name-only", "-r", commit).split()
    except gitrepo.GitError:
        raise ReviewRefused(f"{commit[:12]}: not a commit of these books") from None
    before_txn, after_txn = _versions(ledger_dir, commit, files, item)
    label = _label(before_txn, item)
    ref = (before_txn.meta or {}).get(conventions.META_BANK_REF)
    books = load_books(ledger_dir)
    if any(i.id == item for i in review_items(books.entries)):
        raise ReviewRefused(f"{item}: already in the review queue",
                            reason="the receipt is already back in the review queue", receipt=label)
    current = _same_receipt(books.entries, after_txn)
    if current is None or render_entry(_plain(current)) != render_entry(_plain(after_txn)):
        raise ReviewRefused(f"{item}: the receipt changed after this decision",
                            reason="the receipt changed after this decision; undo the later change first", receipt=label)
    year = current.date.year
    if year in locked_years(books.entries):
        raise ReviewRefused(
            f"{item}: {year} is signed off",
            reason=f"the receipt is dated in {year}, which is signed off: its attribution cannot be undone; "
                   f"book a correction in the open year",
            receipt=label,
        )
    rules_before = rules_after = None
    if conventions.RULES_FILE in files:
        rules_before = parse_rules(_show(ledger_dir, f"{commit}^", conventions.RULES_FILE) or "", conventions.RULES_FILE)
        rules_after = parse_rules(_show(ledger_dir, commit, conventions.RULES_FILE) or "", conventions.RULES_FILE)
    forgotten = False
    with LedgerWriter(ledger_dir, user=user, action=f"review undo {item} {ref} (decision {commit[:12]})") as writer:
        writer.replace_entry(current, _plain(before_txn))
        if rules_after is not None:
            rules = load_rules(ledger_dir)  # under the writer's lock
            restored = _rules_restored(rules, rules_before, rules_after)
            if restored != rules:
                writer.write_text(conventions.RULES_FILE, render_rules(restored))
                forgotten = True
    return Undone(item, ref, label, writer.commit, forgotten)


def _show(ledger_dir: Path, rev: str, rel: str) -> str | None:
    from ledger.store import gitrepo

    try:
        return gitrepo.run(ledger_dir, "show", f"{rev}:{rel}")
    except gitrepo.GitError:
        return None


def _versions(ledger_dir: Path, commit: str, files: list[str], item: str) -> tuple[data.Transaction, data.Transaction]:
    """(the receipt's transaction before ``commit``, after it)."""
    for rel in files:
        if not (rel.startswith(conventions.TXN_DIR + "/") and rel.endswith(".beancount")):
            continue
        before_text, after_text = _show(ledger_dir, f"{commit}^", rel), _show(ledger_dir, commit, rel)
        if before_text is None or after_text is None:
            continue
        before = parser.parse_string(before_text)[0]
        found = [i for i in review_items(before) if i.id == item]
        if not found:
            continue
        after = _same_receipt(parser.parse_string(after_text)[0], found[0].txn)
        if after is not None:
            return found[0].txn, after
    raise ReviewRefused(f"{item}: the decision {commit[:12]} did not resolve this receipt",
                        reason="that decision did not resolve this receipt")


def _same_receipt(entries, txn: data.Transaction) -> data.Transaction | None:
    """The transaction of ``entries`` from the same bank entry as ``txn`` (account, reference, date)."""
    meta = txn.meta or {}
    key = (meta.get(conventions.META_ACCOUNT), meta.get(conventions.META_BANK_REF), txn.date)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            m = entry.meta or {}
            if (m.get(conventions.META_ACCOUNT), m.get(conventions.META_BANK_REF), entry.date) == key:
                return entry
    return None


def _label(txn: data.Transaction, item: str) -> str:
    for found in review_items([txn]):
        if found.id == item:
            return found.label
    return receipt_label(txn.date, 0, "", None)


def _rules_restored(rules: list, before: list, after: list) -> list:
    """``rules`` with each rule the decision added or changed put back as it
    was before - unless it changed again since (then it is left alone)."""
    was = {r.key: r for r in before}
    added = {r.key: r for r in after if was.get(r.key) != r}
    out = []
    for rule in rules:
        if added.get(rule.key) == rule:
            if rule.key in was:
                out.append(was[rule.key])
            continue
        out.append(rule)
    return out
