"""The learned matching rules as staff manage them: listed, and one
forgotten (removed from ``registry/rules.csv`` through the ledger writer:
one commit, so the books' history shows who removed which rule and when).
Rules are learned by ``importers.review.resolve(..., remember=True)``."""

from __future__ import annotations

from pathlib import Path

from ledger import conventions
from ledger.rules import Rule, normalise, normalise_account, parse_rules, render_rules
from ledger.store.writer import LedgerWriter


class RuleNotFound(Exception):
    """No learned rule for that payer; ``str()`` is one line."""


def load_rules(ledger_dir: Path) -> list[Rule]:
    """The rules in the ledger's rules file, in file order (none without the file)."""
    path = Path(ledger_dir) / conventions.RULES_FILE
    return parse_rules(path.read_text(encoding="utf-8") if path.is_file() else "", conventions.RULES_FILE)


def forget_rule(ledger_dir: Path, payer_account: str | None, payer_name: str | None, *, user: str) -> tuple[Rule, str | None]:
    """Remove the rule for this payer (its account and name, as listed);
    (the rule removed, the commit). Receipts it identified stay as booked."""
    key = (normalise_account(payer_account), normalise(payer_name or ""))
    who = payer_account or payer_name or "(none)"
    # Read under the writer's lock: a rule learned meanwhile is kept.
    with LedgerWriter(ledger_dir, user=user, action=f"rules forget {who}") as writer:
        rules = load_rules(ledger_dir)
        rule = next((r for r in rules if r.key == key), None)
        if rule is None:
            raise RuleNotFound(f"no learned rule for payer {who}")
        writer.write_text(conventions.RULES_FILE, render_rules([r for r in rules if r.key != key]))
    return rule, writer.commit
