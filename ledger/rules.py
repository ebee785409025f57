"""Learned matching rules: "this payer is that State", confirmed by staff.

When finance staff resolve a review item with ``--remember``, the payer's
account (or, without one, its name) is remembered here so the next receipt
from it is identified at once. The rules live in ``registry/rules.csv`` in the
ledger directory, under git like the books, so auditors can see who taught
the importer what and when.

This module is pure: it parses and renders the CSV text; the ledger writer
owns the file. Bad rows are refused with ``file:line: problem`` because a
silently skipped rule is a receipt silently misattributed.

Keys: a rule is keyed on its normalised payer account and normalised payer
name together; :func:`add_rule` replaces a rule with the same key. Account
numbers are compared without spaces, upper case; names with
:func:`ledger.names.normalise` (case, accents and punctuation ignored).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from functools import lru_cache

from ledger.names import normalise as _normalise


@lru_cache(maxsize=8192)
def normalise(name: str) -> str:
    """:func:`ledger.names.normalise`, cached: the importer asks for the same payers all year."""
    return _normalise(name)

COLUMNS = ("payer_account", "payer_name", "state_party", "work_plan", "created_by", "created_at", "note")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_ACCOUNT = re.compile(r"^[A-Z0-9/\-.:]{4,64}$")
_WORK_PLAN = re.compile(r"^[a-z][a-z0-9_]*(?::[A-Z0-9\-]+)?$")


class RulesError(ValueError):
    """A rules file that cannot be used; ``str()`` is ``file:line: problem``."""


@dataclass(frozen=True)
class Rule:
    """Payer (account and/or name) -> State Party, as confirmed by a person."""

    payer_account: str | None
    payer_name: str | None
    state_party: str
    work_plan: str | None
    created_by: str
    created_at: str
    note: str

    @property
    def key(self) -> tuple[str, str]:
        return (normalise_account(self.payer_account), normalise(self.payer_name or ""))


def normalise_account(account: str | None) -> str:
    """Account numbers as banks print them, compared without spaces: "NO83 3000 1234 567"."""
    return "".join((account or "").split()).upper()


def _rule_problem(rule: Rule) -> str | None:
    """The problem with a rule, or None."""
    account = normalise_account(rule.payer_account)
    if not account and not normalise(rule.payer_name or ""):
        return "a rule needs a payer_account or a payer_name"
    if account and not _ACCOUNT.match(account):
        return f"payer_account {rule.payer_account!r} is not an account number"
    if not _ISO3.match(rule.state_party):
        return f"state_party {rule.state_party!r} is not an ISO 3166-1 alpha-3 code"
    if rule.work_plan is not None and not _WORK_PLAN.match(rule.work_plan):
        return f"work_plan {rule.work_plan!r} is not a work-plan name"
    if not rule.created_by.strip():
        return "created_by is empty"
    try:
        datetime.datetime.fromisoformat(rule.created_at)
    except ValueError:
        return f"created_at {rule.created_at!r} is not an ISO date or date-time"
    return None


def parse_rules(text: str, source: str = "registry/rules.csv") -> list[Rule]:
    """Rules from CSV text; ``RulesError("file:line: ...")`` on the first bad row.

    An empty text is no rules. The header must be exactly :data:`COLUMNS`.
    """
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        if tuple(h.strip() for h in header) != COLUMNS:
            raise RulesError(f"{source}:1: header must be {','.join(COLUMNS)}")
        rules: list[Rule] = []
        seen: dict[tuple[str, str], int] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise RulesError(f"{source}:{line}: expected {len(COLUMNS)} columns, found {len(row)}")
            cells = [cell.strip() for cell in row]
            rule = Rule(
                payer_account=normalise_account(cells[0]) or None,
                payer_name=cells[1] or None,
                state_party=cells[2].upper(),
                work_plan=cells[3] or None,
                created_by=cells[4],
                created_at=cells[5],
                note=cells[6],
            )
            problem = _rule_problem(rule)
            if problem:
                raise RulesError(f"{source}:{line}: {problem}")
            if rule.key in seen:
                raise RulesError(f"{source}:{line}: same payer as line {seen[rule.key]}")
            seen[rule.key] = line
            rules.append(rule)
    except csv.Error as exc:
        raise RulesError(f"{source}:{reader.line_num}: {exc}") from None
    return rules


def render_rules(rules: list[Rule]) -> str:
    """The CSV text of ``rules`` (header first, in the given order, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rule in rules:
        problem = _rule_problem(rule)
        if problem:
            raise RulesError(f"rule for {rule.payer_account or rule.payer_name!r}: {problem}")
        writer.writerow(
            [
                normalise_account(rule.payer_account),
                rule.payer_name or "",
                rule.state_party,
                rule.work_plan or "",
                rule.created_by,
                rule.created_at,
                rule.note,
            ]
        )
    return out.getvalue()


def add_rule(rules: list[Rule], rule: Rule) -> list[Rule]:
    """A new list with ``rule`` added, replacing a rule for the same payer in place."""
    problem = _rule_problem(rule)
    if problem:
        raise RulesError(problem)
    out = list(rules)
    for i, old in enumerate(out):
        if old.key == rule.key:
            out[i] = rule
            return out
    out.append(rule)
    return out


@dataclass(frozen=True)
class RuleIndex:
    """Rules indexed for the importer: exact account, exact normalised name.

    An account rule applies to a payment from that account whatever the name;
    a name rule only to payments whose name matches and that carry no account
    or an account with no rule of its own (rule by name and account together
    also answers by account).
    """

    by_account: dict[str, Rule]
    by_name: dict[str, Rule]
    source: tuple[Rule, ...]

    @classmethod
    def build(cls, rules: list[Rule] | tuple[Rule, ...]) -> RuleIndex:
        by_account: dict[str, Rule] = {}
        by_name: dict[str, Rule] = {}
        for rule in rules:
            account, name = rule.key
            if account:
                by_account[account] = rule
            elif name:
                by_name[name] = rule
        return cls(by_account, by_name, tuple(rules))

    def for_account(self, account: str | None) -> Rule | None:
        return self.by_account.get(normalise_account(account)) if account else None

    def for_name(self, name: str | None) -> Rule | None:
        return self.by_name.get(normalise(name)) if name else None


_last_index: list[tuple[object, RuleIndex]] = []
_NO_RULES = RuleIndex({}, {}, ())


def index_rules(rules: list[Rule] | tuple[Rule, ...] | RuleIndex) -> RuleIndex:
    """The index of ``rules``, rebuilt only when the rules change.

    The importer calls this once per receipt with the same list, so the last
    index is reused while it is the same list object with the same length
    and the same last rule (an append or a pop is noticed). Rules change
    through :func:`add_rule`, which returns a new list; code that replaces an
    element of a list in place must pass a fresh :meth:`RuleIndex.build`.
    Comparing every rule would cost more than identifying the receipt.
    No rules at all (a new ledger, a benchmark passing ``[]`` per receipt)
    share one empty index.
    """
    if isinstance(rules, RuleIndex):
        return rules
    if isinstance(rules, (list, tuple)) and not rules:
        return _NO_RULES
    if _last_index:
        source, index = _last_index[0]
        if (
            source is rules
            and len(index.source) == len(rules)
            and (not rules or index.source[-1] is rules[-1])
        ):
            return index
    index = RuleIndex.build(rules)
    _last_index[:] = [(rules, index)]
    return index
