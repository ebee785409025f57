"""The importer's reasoning (the ``why`` of a receipt, see
:mod:`importers.identify`) as short facts a person reads at a glance:
"Payer name matches 'España' of Spain", "IBAN country: DE (Germany)".

The ``why`` is what the ledger keeps (one line of metadata per receipt), so
the facts are read back from it rather than recomputed: they say what the
importer saw when it booked the receipt, even after the rules or the
registry changed. A part this module does not know is kept as written -
nothing the importer said is ever dropped, only the scores and arrows.

Bank text is quoted inside the ``why`` and may hold anything, "; " and
"->" included, so each part is matched by its whole known shape, never by
splitting on separators.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from importers.identify import STRONG_MATCH

# Kinds of fact, in the order a reader needs them.
PROBLEM = "problem"  # why the receipt waits for a person
FOR = "for"  # evidence for the suggested State
AGAINST = "against"  # evidence pointing to another State
EXPLAINED = "explained"  # another country the payer's rule accounts for
NEUTRAL = "neutral"  # seen, but says nothing about a State
YEAR = "year"  # the work-plan year and plan

_END = r"(?=; |$)"
_CODE = r"[A-Z0-9]{3}"
_SOURCES = {"name": "", "alias": "a known alias", "ministry": "a ministry", "demonym": "a nationality word"}
_FIELDS = {"payer": "Payer name", "ultimate payer": "Ultimate payer name", "remittance": "Remittance text"}


@dataclass(frozen=True)
class Fact:
    kind: str
    text: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text}


def _p(pattern: str) -> re.Pattern:
    return re.compile(pattern + _END)


_SKIP = [
    _p(rf"suggest {_CODE} \(score [0-9.]+\)"),
    _p(rf"{_CODE} \d{{4}} \S+ \(score [0-9.]+\)"),  # the head of an identified receipt
]
_NO_EVIDENCE = _p(r"no evidence of a State")
_CONFLICT = _p(rf"conflict between (?P<codes>{_CODE}(?:, {_CODE})*)")
_COUNTRY_ONLY = _p(r"country evidence only, no name")
_NOT_CONTRIBUTOR = _p(rf"(?P<code>{_CODE}) is not a contributor in the registry")
_SEVERAL_YEARS = _p(r"several years in remittance \((?P<years>[0-9, ]+)\)")
_NO_YEAR = _p(r"no year in remittance; booking year assumed")
_FAR_YEAR = _p(r"year (?P<year>\d{4}) is far from the booking year (?P<booking>\d{4})")
_NO_PLAN = _p(r"work plan '(?P<plan>.*?)' has no account in the chart")
_NAME = _p(
    rf"(?P<prefix>against: |explained by the rule: )?(?P<field>payer|ultimate payer|remittance) '(?P<text>.*?)' -> "
    rf"(?P<code>{_CODE}) \((?P<source>name|alias|demonym|ministry) '(?P<matched>.*?)', (?P<score>[0-9]+(?:\.[0-9]+)?)\)"
)
_RULE_ACCOUNT = _p(rf"(?P<prefix>against: |explained by the rule: )?rule: payer account (?P<account>\S*) -> (?P<code>{_CODE})")
_RULE_GENERIC = _p(
    rf"(?P<prefix>against: |explained by the rule: )?rule: generic payer name '(?P<name>.*?)' -> (?P<code>{_CODE}) \(a hint only\)"
)
_RULE_NAME = _p(rf"(?P<prefix>against: |explained by the rule: )?rule: payer name '(?P<name>.*?)' -> (?P<code>{_CODE})")
_INVALID_IBAN = _p(r"IBAN (?P<account>\S*) \((?P<iso2>[^)]*)\): not a valid IBAN \(check digits or format\), country not trusted")
_COUNTRY = _p(
    r"(?P<prefix>against: |explained by the rule: )?(?P<what>IBAN \S*|payer address|ultimate payer address) "
    rf"\((?P<iso2>[^)]*)\)(?:(?P<host>: host country, no evidence)|(?P<unknown>: unknown country)| -> (?P<code>{_CODE}))"
)
_PAYER_ONLY = re.compile(r"payer '(?P<text>.*?)'(?=; year: |$)")
_YEAR = re.compile(r"year: (?P<year>.*?); work plan: (?P<plan>\S*)$")
_YEAR_BOOKING = re.compile(r"booking year (?P<year>\d{4}) assumed$")
_YEAR_STATED = re.compile(r"'(?P<text>.*)' -> (?P<year>\d{4})$")
_YEAR_SEVERAL = re.compile(r"years (?P<years>[0-9, ]+) in '(?P<text>.*)'$")


def facts(why: str | None, name_of: Callable[[str], str] = lambda code: code) -> list[Fact]:
    """The facts of ``why``, problems first; ``name_of`` names a State by its code."""
    text = " ".join((why or "").split())
    if not text:
        return []
    if text.startswith("review: "):
        text = text[len("review: "):]
    found: list[Fact] = []
    pos = 0
    while pos < len(text):
        if text.startswith("; ", pos):
            pos += 2
            continue
        year = _YEAR.match(text, pos)
        if year:
            found.extend(_year_facts(year, name_of))
            break
        fact, end = _one(text, pos, name_of)
        if fact is not None:
            found.append(fact)
        pos = end
    order = [PROBLEM, FOR, AGAINST, EXPLAINED, NEUTRAL, YEAR]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda f: order.index(f.kind))


def conflict(why: str | None, name_of: Callable[[str], str] = lambda code: code) -> str | None:
    """The conflict the importer found, in words ("Evidence points to Spain and Germany"); None without one."""
    match = _CONFLICT.search(" ".join((why or "").split()))
    return _conflict_text(match.group("codes"), name_of) if match else None


def ambiguous_year(why: str | None) -> bool:
    """The remittance names several years: no year may be taken for granted."""
    return _SEVERAL_YEARS.search(" ".join((why or "").split())) is not None


def _conflict_text(codes: str, name_of) -> str:
    names = [name_of(c) for c in codes.split(", ")]
    return "Evidence points to " + (" and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1])


# The parts that say why a receipt waits, each as one plain sentence (None: said by another fact).
_PROBLEMS = (
    (_NO_EVIDENCE, lambda m, name_of: "No name in the payment points to a State"),
    (_CONFLICT, lambda m, name_of: _conflict_text(m.group("codes"), name_of)),
    (_COUNTRY_ONLY, lambda m, name_of: "Only a country (of the account or an address) points to a State; no name does"),
    (_NOT_CONTRIBUTOR, lambda m, name_of: f"{name_of(m.group('code'))} is not a contributor in the registry"),
    (_SEVERAL_YEARS, lambda m, name_of: f"The remittance names several years: {m.group('years')}"),
    (_NO_YEAR, lambda m, name_of: None),  # the year fact says it
    (_FAR_YEAR, lambda m, name_of: f"The year {m.group('year')} is far from the receipt's year {m.group('booking')}"),
    (_NO_PLAN, lambda m, name_of: f"The work plan '{m.group('plan')}' is not one the books know"),
)


def _one(text: str, pos: int, name_of) -> tuple[Fact | None, int]:
    """The fact of the part at ``pos`` and where the next part starts."""
    for pattern in _SKIP:
        m = pattern.match(text, pos)
        if m:
            return None, m.end()
    for pattern, say in _PROBLEMS:
        m = pattern.match(text, pos)
        if m:
            sentence = say(m, name_of)
            return (Fact(PROBLEM, sentence) if sentence else None), m.end()
    for pattern, say in ((_NAME, _name_fact), (_RULE_ACCOUNT, _rule_fact), (_RULE_GENERIC, _rule_fact),
                         (_RULE_NAME, _rule_fact), (_COUNTRY, _country_fact)):
        m = pattern.match(text, pos)
        if m:
            return _prefixed(m.group("prefix"), say(m, name_of)), m.end()
    m = _INVALID_IBAN.match(text, pos)
    if m:
        return Fact(NEUTRAL, "The payer's IBAN is not valid, so its country is not trusted"), m.end()
    m = _PAYER_ONLY.match(text, pos)
    if m:
        return Fact(NEUTRAL, "The payer's name matches no State" if m.group("text") else "No payer name"), m.end()
    end = text.find("; ", pos)
    end = len(text) if end < 0 else end
    return Fact(NEUTRAL, text[pos:end]), end


def _prefixed(prefix: str | None, fact: Fact) -> Fact:
    if prefix == "against: ":
        return Fact(AGAINST, f"Against it: {fact.text}")
    if prefix == "explained by the rule: ":
        return Fact(EXPLAINED, f"Explained by the payer's rule: {fact.text}")
    return fact


def _name_fact(m: re.Match, name_of) -> Fact:
    state = name_of(m.group("code"))
    matched, source = m.group("matched"), _SOURCES[m.group("source")]
    what = _FIELDS[m.group("field")]
    if _fold(matched) == _fold(state):
        text = f"{what} matches {state}"
    else:
        text = f"{what} matches '{matched}'" + (f" ({source})" if source else "") + f" of {state}"
    if Decimal(m.group("score")) < STRONG_MATCH:
        text += " - a weak match (a common word, or a name several States share)"
    return Fact(FOR, text)


def _rule_fact(m: re.Match, name_of) -> Fact:
    state = name_of(m.group("code"))
    if "account" in m.groupdict():
        return Fact(FOR, f"A rule learned from an earlier decision: payer account {m.group('account')} pays for {state}")
    if m.re is _RULE_GENERIC:
        return Fact(FOR, f"A rule learned on the generic payer name '{m.group('name')}' points to {state} (a hint only)")
    return Fact(FOR, f"A rule learned from an earlier decision: payer '{m.group('name')}' pays for {state}")


def _country_fact(m: re.Match, name_of) -> Fact:
    what = m.group("what")
    label = "IBAN country" if what.startswith("IBAN") else what[0].upper() + what[1:] + " country"
    iso2 = m.group("iso2")
    if m.group("host"):
        return Fact(NEUTRAL, f"{label}: {iso2}, the host country (says nothing about who pays)")
    if m.group("unknown"):
        return Fact(NEUTRAL, f"{label}: {iso2} (not a known country)")
    return Fact(FOR, f"{label}: {iso2} ({name_of(m.group('code'))})")


def _year_facts(m: re.Match, name_of) -> list[Fact]:
    said = m.group("year")
    plan = m.group("plan")
    out = []
    booking = _YEAR_BOOKING.match(said)
    stated = _YEAR_STATED.match(said)
    several = _YEAR_SEVERAL.match(said)
    if booking:
        out.append(Fact(PROBLEM, f"The remittance names no year: the receipt's year {booking.group('year')} is assumed"))
    elif stated:
        out.append(Fact(YEAR, f"Work-plan year {stated.group('year')}, from the remittance ('{stated.group('text')}')"))
    elif several:
        out.append(Fact(PROBLEM, f"The remittance names several years: {several.group('years')}"))
    elif not _FAR_YEAR.fullmatch(said):
        out.append(Fact(YEAR, f"Year: {said}"))
    out.append(Fact(YEAR, f"Work plan: {plan}"))
    return out


def _fold(text: str) -> str:
    from ledger.names import normalise

    return normalise(text)
