"""Learned matching rules: CSV text in and out (ledger/rules.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.rules import (
    COLUMNS,
    Rule,
    RuleIndex,
    RulesError,
    add_rule,
    index_rules,
    parse_rules,
    render_rules,
)

HEADER = ",".join(COLUMNS)


def rule(account=None, name=None, state="NOR", **kw) -> Rule:
    values = dict(work_plan=None, created_by="finance1", created_at="2025-03-01T10:00:00", note="")
    values.update(kw)
    return Rule(payer_account=account, payer_name=name, state_party=state, **values)


def test_round_trip():
    rules = [
        rule("NO8330001234567", "UTENRIKSDEPARTEMENTET", "NOR", note="confirmed by phone"),
        rule(None, 'MINISTERE "X", DIRECTION\nDES FINANCES', "SEN", work_plan="core"),
        rule("GB82WEST12345698765432", None, "NZL", created_at="2025-03-01"),
    ]
    text = render_rules(rules)
    assert text.splitlines()[0] == HEADER
    assert parse_rules(text) == rules
    assert render_rules(parse_rules(text)) == text


def test_empty_text_is_no_rules():
    assert parse_rules("") == []
    assert parse_rules(HEADER + "\n") == []


def test_accounts_are_compared_without_spaces():
    text = f"{HEADER}\nno83 3000 1234 567,,NOR,,finance1,2025-01-01,\n"
    (parsed,) = parse_rules(text)
    assert parsed.payer_account == "NO8330001234567"
    index = RuleIndex.build([parsed])
    assert index.for_account("NO83 3000 1234 567") is parsed


def test_names_are_compared_normalised():
    r = rule(None, "Ministère des Affaires étrangères du Sénégal", "SEN")
    index = RuleIndex.build([r])
    assert index.for_name("MINISTERE DES AFFAIRES ETRANGERES DU SENEGAL") is r
    assert index.for_name("MINISTERE DES AFFAIRES ETRANGERES") is None


BAD = [
    ("payer_account,payer_name,state\nX,,NOR\n", 1, "header"),
    (f"{HEADER}\n,,NOR,,finance1,2025-01-01,\n", 2, "payer_account or a payer_name"),
    (f"{HEADER}\nNO8330001234567,,NORWAY,,finance1,2025-01-01,\n", 2, "alpha-3"),
    (f"{HEADER}\nNO8330001234567,,NOR,,,2025-01-01,\n", 2, "created_by"),
    (f"{HEADER}\nNO8330001234567,,NOR,,finance1,yesterday,\n", 2, "created_at"),
    (f"{HEADER}\nNO8330001234567,,NOR,Core Plan!,finance1,2025-01-01,\n", 2, "work_plan"),
    (f"{HEADER}\nNO8330001234567,,NOR,,finance1,2025-01-01\n", 2, "7 columns"),
    (f"{HEADER}\nNO8330001234567,,NOR,,a,2025-01-01,\n\nno83 3000 1234567,,DEU,,b,2025-01-02,\n", 4, "same payer as line 2"),
    (f"{HEADER}\nNO8330001234567!!,,NOR,,a,2025-01-01,\n", 2, "not an account"),
    (f'{HEADER}\n"unterminated,,NOR,,a,2025-01-01,\n', 2, ""),
]


@pytest.mark.parametrize("text,line,problem", BAD)
def test_bad_rows_name_file_and_line(text, line, problem):
    with pytest.raises(RulesError) as err:
        parse_rules(text, source="registry/rules.csv")
    message = str(err.value)
    assert message.startswith(f"registry/rules.csv:{line}: ") or (
        problem == "" and message.startswith("registry/rules.csv:")
    )
    assert problem in message


def test_add_rule_replaces_the_same_payer():
    old = rule("NO8330001234567", None, "NOR", created_by="a")
    other = rule(None, "EMBASSY OF NEW ZEALAND", "NZL")
    new = rule("NO83 3000 1234 567", None, "DEU", created_by="b")
    rules = [old, other]
    updated = add_rule(rules, new)
    assert updated == [new, other]
    assert rules == [old, other]  # the input is not mutated
    assert add_rule(updated, rule(None, "Utenriksdepartementet", "NOR")) == [new, other, rule(None, "Utenriksdepartementet", "NOR")]


def test_add_rule_refuses_a_bad_rule():
    with pytest.raises(RulesError):
        add_rule([], rule(None, None, "NOR"))
    with pytest.raises(RulesError):
        add_rule([], rule("NO8330001234567", None, "nor"))


def test_render_refuses_a_bad_rule():
    with pytest.raises(RulesError):
        render_rules([rule("NO8330001234567", None, "NOR", created_at="soon")])


def test_account_rule_wins_over_name_in_the_index():
    by_account = rule("NO8330001234567", "UTENRIKSDEPARTEMENTET", "NOR")
    by_name = rule(None, "UTENRIKSDEPARTEMENTET", "DEU")
    index = RuleIndex.build([by_account, by_name])
    assert index.for_account("NO8330001234567") is by_account
    # A rule with an account applies to that account only, not to the name.
    assert index.for_name("UTENRIKSDEPARTEMENTET") is by_name


def test_index_is_reused_until_the_rules_change():
    rules = [rule("NO8330001234567", None, "NOR")]
    first = index_rules(rules)
    assert index_rules(rules) is first
    longer = add_rule(rules, rule(None, "EMBASSY OF NEW ZEALAND", "NZL"))
    second = index_rules(longer)
    assert second is not first and second.for_name("EMBASSY OF NEW ZEALAND").state_party == "NZL"
    rules.append(rule("GB82WEST12345698765432", None, "NZL"))  # in-place append is noticed
    assert index_rules(rules).for_account("GB82WEST12345698765432").state_party == "NZL"
    assert index_rules(second) is second


_names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)


@given(st.lists(st.tuples(_names, st.sampled_from(["NOR", "DEU", "SEN"]), _names), max_size=8))
def test_round_trip_any_names(rows):
    rules: list[Rule] = []
    for name, state, note in rows:
        if not name.strip() or not any(ch.isalnum() for ch in name):
            continue
        rules = add_rule(rules, rule(None, name.strip(), state, note=note.strip()))
    assert parse_rules(render_rules(rules)) == rules
