"""Which State Party sent a receipt, for which work plan and work-plan year.

A wrong attribution is far worse than a review item:
a receipt credited to the wrong State misstates two States' contributions in
every report the Coordinating Committee reads, while a review item costs a
minute of staff time. So :func:`identify` collects *evidence* from every field
of the payment, and assigns automatically only when

1. at least one *identifying* source names the State - a learned rule, a
   name/alias/ministry/demonym in the payer or ultimate payer, or a country
   named in the remittance text - and
2. no source points to a different State, and
3. the State is a contributor in the registry, and
4. the remittance gives one plausible year and a known work plan.

Everything else goes to review, with the best candidate as a suggestion when
there is one. Country-only evidence (IBAN country, address country) supports
a name but never identifies on its own: many payers share a country's banks.

The host country. Most Permanent Missions in Geneva bank in Switzerland, so a
CH account or a CH address says nothing about the State that pays: they are
recorded as "no evidence". Likewise Switzerland named by its country name,
alias or demonym ("... GENEVA, SUISSE") next to another State is incidental
and cannot contradict it. Switzerland is identified by a Swiss ministry
("DFAE"), a rule, or a payer name that names Switzerland and no other State
("CONFEDERATION SUISSE"); Switzerland named only in the remittance text is a
suggestion, not an identification.

Rules against names. A staff-confirmed account rule is the strongest
evidence, and it explains the country of that account and its address (an
embassy paying from its host country's bank is why the rule was learned).
But a payer or ultimate-payer *name* of a different State is a conflict and
goes to review: the account may be shared (a treasury or a central bank
paying for several States) or the rule may be wrong. A name rule (no account)
is strong too, but country evidence against it is a conflict; and a name
rule on a generic name ("MINISTRY OF FOREIGN AFFAIRS", shared by every
State) is only a hint: it suggests, it never identifies.

Scores are Decimal, deterministic: each source has a weight in 0..1; a
State's score is the noisy-OR of its evidence, 1 - prod(1 - w); with a
conflict the confidence is that score times (1 - the strongest other score).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from importers.model import Detail, Entry
from importers.remittance import YearWorkPlan, forget_answers, parse_remittance
from ledger import conventions
from ledger.names import is_generic, namesake_marker, names_a_diplomatic_mission
from ledger.rules import Rule, RuleIndex, index_rules

HOST_ISO2 = "CH"  # the GICHD, and the ISU's bank, are in Geneva
HOST_ISO3 = "CHE"
CONTRIBUTOR_KINDS = ("state_party", "other")
# A stated year outside [booking year - 3, booking year + 2] is more likely a
# reference number than a work plan: late payments rarely lag three years,
# advances rarely run ahead two.
YEARS_BACK = 3
YEARS_AHEAD = 2

# Weights of each source (a registry match is further scaled by its score).
W_RULE_ACCOUNT = Decimal("0.99")
W_RULE_NAME = Decimal("0.90")
W_RULE_GENERIC_NAME = Decimal("0.40")
F_PAYER_NAME = Decimal("0.90")
F_ULTIMATE_PAYER = Decimal("0.90")
F_REMITTANCE = Decimal("0.80")
W_IBAN_COUNTRY = Decimal("0.30")
W_ADDRESS_COUNTRY = Decimal("0.25")
STRONG_MATCH = Decimal("0.50")  # a registry match below this is a hint (shared or weak name)
ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")

_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_NAME_SOURCES = ("payer_name", "ultimate_payer", "remittance")


@dataclass(frozen=True)
class Evidence:
    """One thing seen in the payment and the State it points to (None: neutral)."""

    # "rule" (by payer account or name), "payer_name", "ultimate_payer",
    # "remittance", "iban_country", "address_country" (payer's or ultimate payer's)
    source: str
    state_party: str | None
    weight: Decimal
    text: str  # what was seen, e.g. "IBAN DE02… (DE)"


@dataclass(frozen=True)
class Attribution:
    """The importer's decision for one receipt (one camt ``TxDtls``)."""

    state_party: str | None  # None when it must go to review
    wp_year: int | None
    work_plan: str  # "core" unless the text says otherwise
    confidence: Decimal  # 0..1, two decimals
    why: str  # one human line
    needs_review: bool
    suggestion: str | None  # best candidate State when needs_review (may be None)
    suggested_year: int | None
    evidence: tuple[Evidence, ...]
    # When the payer's own account or address points to another State than
    # the suggestion: what it says, in one line. Such a suggestion is shown as
    # a conflict in the review queue, never offered for a one-click accept.
    conflict: str | None = None


@dataclass(frozen=True)
class _Seen:
    """Evidence plus how it may be used in the decision."""

    evidence: Evidence
    strong: bool = False  # may identify a State on its own
    incidental: bool = False  # host country mentioned by name: never a conflict
    account_country: bool = False  # the paying account's IBAN or address country


# --- IBAN -------------------------------------------------------------------


@lru_cache(maxsize=4096)
def iban_country(account: str) -> tuple[str | None, bool]:
    """(country code, valid) of an IBAN; (None, False) if not IBAN-shaped.

    Valid as ``stdnum.iban`` checks it: the ISO 13616 check digits and the
    country's IBAN length and format. The national bank-code checks are left
    out: stdnum's bank lists do not know every bank, and an unknown bank says
    nothing against the country.
    """
    compact = "".join(account.split()).upper()
    if not _IBAN.match(compact):
        return None, False
    try:
        stdnum_iban.validate(compact, check_country=False)
    except ValidationError:
        return compact[:2], False
    return compact[:2], True


def _one_line(text: str) -> str:
    """Bank text as it may appear in ``why``: one line, single spaces."""
    return " ".join(text.split())


def _short(account: str) -> str:
    compact = "".join(account.split()).upper()
    return compact[:4] + "…" if len(compact) > 4 else compact


# --- Per-registry memo ----------------------------------------------------------
# Evidence from one field depends only on the field's text and the registry,
# and bank files repeat the same payers and accounts all year: the evidence of
# each payer field is computed once per registry, and so is each verdict (see
# _decide). Remittance texts are nearly all new (they carry references), so
# their evidence is not kept; only the attribution of the whole receipt is.

_memo: dict[int, tuple[object, dict]] = {}
_MEMO_MAX = 50_000


def _memo_for(registry) -> dict:
    slot = _memo.get(id(registry))
    if slot is None or slot[0] is not registry:
        if len(_memo) > 8:
            _memo.clear()
        slot = (registry, {})
        _memo[id(registry)] = slot
    cache = slot[1]
    if len(cache) >= _MEMO_MAX:
        cache.clear()
    return cache


def clear_caches() -> None:
    """Forget every memoised attribution, evidence, year and name match.

    For benchmarks and tests that must see the cold path; the importer never
    needs it (caches are keyed on everything a result depends on).
    """
    for registry, _cache in _memo.values():
        registry.clear_match_cache()
    _memo.clear()
    iban_country.cache_clear()
    parse_remittance.cache_clear()
    forget_answers()


def _memoised(fn):
    """Cache ``fn(registry, *key)`` per registry; results are immutable tuples."""

    def wrapper(registry, *key):
        cache = _memo_for(registry)
        full = (fn.__name__, *key)
        hit = cache.get(full)
        if hit is None:
            hit = cache[full] = tuple(fn(registry, *key))
        return hit

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- Evidence ------------------------------------------------------------------


def find_rule(rules: RuleIndex, detail: Detail) -> tuple[Rule | None, str | None]:
    """The learned rule for this payer and what it matched: "account", or the name matched.

    An account rule wins over a name rule; the payer's name is tried before
    the ultimate payer's.
    """
    if not rules.by_account and not rules.by_name:
        return None, None  # nothing learned yet
    rule = rules.for_account(detail.payer_account)
    if rule is not None:
        return rule, "account"
    for name in (detail.payer, detail.ultimate_payer):
        rule = rules.for_name(name)
        if rule is not None:
            return rule, name
    return None, None


def _rule_evidence(rule: Rule | None, matched: str | None, account: str | None) -> list[_Seen]:
    if rule is None:
        return []
    if matched == "account":
        text = f"rule: payer account {_short(account or '')} -> {rule.state_party}"
        return [_Seen(Evidence("rule", rule.state_party, W_RULE_ACCOUNT, text), strong=True)]
    name = _one_line(matched or "")
    if is_generic(name):
        # "MINISTRY OF FOREIGN AFFAIRS" names an office every State has: a
        # rule learned on it can only suggest, never identify.
        text = f"rule: generic payer name '{name}' -> {rule.state_party} (a hint only)"
        return [_Seen(Evidence("rule", rule.state_party, W_RULE_GENERIC_NAME, text))]
    text = f"rule: payer name '{name}' -> {rule.state_party}"
    return [_Seen(Evidence("rule", rule.state_party, W_RULE_NAME, text), strong=True)]


_LABELS = {"payer_name": "payer", "ultimate_payer": "ultimate payer", "remittance": "remittance"}
_FACTORS = {"payer_name": F_PAYER_NAME, "ultimate_payer": F_ULTIMATE_PAYER, "remittance": F_REMITTANCE}


@_memoised
def _name_evidence(registry, source: str, text: str | None) -> list[_Seen]:
    if not text or not text.strip():
        return []
    line = _one_line(text)
    marker = namesake_marker(text) if source != "remittance" else None
    seen = []
    for m, weight, strong, host in _weigh_names(source, registry.find_names(text)):
        if marker and m.source in ("name", "demonym"):
            # "TOGO TRAVEL LTD": a company or a person named after a country
            # is not that country; its ministries and staff aliases still count.
            what = f"{_LABELS[source]} '{line}': a company or a person ('{marker.upper()}') named after {m.iso3}, no evidence"
            seen.append(_Seen(Evidence(source, None, ZERO, what)))
            continue
        seen.append(_Seen(_labelled(source, line, m, weight), strong=strong, incidental=host))
    return seen


def _weigh_names(source: str, matches) -> list[tuple]:
    """(match, weight, strong, host) of each name the registry found in a ``source`` text.

    All that the decision needs of a name; only the label needs the text.
    """
    states = {m.iso3 for m in matches}
    out = []
    for m in matches:
        host = m.iso3 == HOST_ISO3 and m.source != "ministry"
        # Switzerland named next to another State ("MISSION OF X, GENEVA,
        # SWITZERLAND"), or only in the remittance, is where, not who.
        incidental = host and (len(states) > 1 or source == "remittance")
        strong = m.score >= STRONG_MATCH and not incidental
        out.append((m, _q(m.score * _FACTORS[source]), strong, host))
    return out


def _labelled(source: str, line: str, m, weight: Decimal) -> Evidence:
    """The evidence of name match ``m`` in a ``source`` text, ``line`` as :func:`_one_line` gives it."""
    label = f"{_LABELS[source]} '{line}' -> {m.iso3} ({m.source} '{m.matched}', {m.score})"
    return Evidence(source, m.iso3, weight, label)


@_memoised
def _country_evidence(registry, source: str, iso2: str | None, what: str, own: bool = True) -> list[_Seen]:
    """Country evidence; ``own``: of the paying account (an account rule explains it)."""
    if not iso2:
        return []
    iso2 = _one_line(iso2).upper()  # bank text: it is quoted in ``why``
    if iso2 == HOST_ISO2:
        text = f"{what} ({iso2}): host country, no evidence"
        return [_Seen(Evidence(source, None, ZERO, text), account_country=own)]
    iso3 = registry.from_iso2(iso2)
    weight = W_IBAN_COUNTRY if source == "iban_country" else W_ADDRESS_COUNTRY
    if iso3 is None:
        return [_Seen(Evidence(source, None, ZERO, f"{what} ({iso2}): unknown country"), account_country=own)]
    return [_Seen(Evidence(source, iso3, weight, f"{what} ({iso2}) -> {iso3}"), account_country=own)]


@_memoised
def _iban_evidence(registry, account: str | None) -> list[_Seen]:
    if not account:
        return []
    country, valid = iban_country(account)
    if country is None:
        return []  # not an IBAN (Othr/Id, a national account number)
    if not valid:
        text = f"IBAN {_short(account)} ({country}): not a valid IBAN (check digits or format), country not trusted"
        return [_Seen(Evidence("iban_country", None, ZERO, text), account_country=True)]
    return _country_evidence(registry, "iban_country", country, f"IBAN {_short(account)}")


def remittance_text(detail: Detail, entry: Entry) -> str:
    """The text the payer wrote: remittance, else the unsplit detail text, else the entry's."""
    return (detail.remittance or detail.text or entry.text or "").strip()


@_memoised
def _payer_evidence(registry, rule, matched, payer, ultimate, account, country, ult_country):
    """(evidence before the remittance's, evidence after it): all but the remittance, once per payer."""
    head = _rule_evidence(rule, matched, account)
    head += _name_evidence(registry, "payer_name", payer)
    head += _name_evidence(registry, "ultimate_payer", ultimate)
    tail = _iban_evidence(registry, account)
    tail += _country_evidence(registry, "address_country", country, "payer address")
    tail += _country_evidence(registry, "address_country", ult_country, "ultimate payer address", False)
    mission = _mission_state(head, payer, ultimate)
    if mission is not None:
        tail = tuple(_hosted(s, mission) for s in tail)
    return tuple(head), tail


def _mission_state(head: list[_Seen], payer: str | None, ultimate: str | None) -> str | None:
    """The State whose diplomatic mission pays, when a payer name says so and names one State.

    "EMBASSY OF JAPAN": Japan. "EMBASSY OF GERMANY IN FRANCE" names two
    States: None (the receipt goes to review on the conflict).
    """
    if not (names_a_diplomatic_mission(payer) or names_a_diplomatic_mission(ultimate)):
        return None
    named = {
        s.evidence.state_party for s in head
        if s.strong and s.evidence.source in ("payer_name", "ultimate_payer") and not s.incidental
    }  # fmt: skip
    return named.pop() if len(named) == 1 else None


def _hosted(seen: _Seen, mission: str) -> _Seen:
    """Country evidence of a mission's payment: the host country's says nothing against the mission's State."""
    state = seen.evidence.state_party
    if state is None or state == mission:
        return seen
    text = f"{seen.evidence.text.split(' -> ')[0]}: host country of a mission of {mission}, no evidence"
    return _Seen(Evidence(seen.evidence.source, None, ZERO, text), account_country=seen.account_country)


# --- Decision ----------------------------------------------------------------------


def _noisy_or(weights) -> Decimal:
    miss = ONE
    for w in weights:
        miss *= ONE - w
    return ONE - miss


@dataclass(frozen=True)
class _Verdict:
    state: str | None  # the best candidate
    score: Decimal
    confidence: Decimal
    problem: str | None  # why it cannot be assigned (None: it can)
    # What the why-string cites, in order, as (prefix, position in the
    # evidence): the evidence for the best candidate, the conflicts
    # ("against: "), other countries an account rule accounts for ("explained
    # by the rule: "), then the evidence pointing nowhere.
    cited: tuple[tuple[str, int], ...]
    # The positions of the payer's own account or address evidence that
    # points to another State than ``state``.
    contradicted: tuple[int, ...] = ()


def _pattern(seen) -> tuple:
    """What the decision reads of each piece of evidence: (State, weight, strong, incidental, account country)."""
    return tuple(
        [(s.evidence.state_party, s.evidence.weight, s.strong, s.incidental, s.account_country) for s in seen]
    )


def _ruled(rule: Rule | None, matched: str | None) -> str | None:
    """The State of the account rule that applies, if one does."""
    return rule.state_party if matched == "account" and rule is not None else None


def _decide(registry, pattern: tuple, ruled: str | None) -> _Verdict:
    """The verdict on the evidence described by ``pattern`` (see :func:`_pattern`).

    ``ruled``: the State of the account rule that applies, if any. Nothing
    else counts - no text - so a verdict is reached once per pattern and
    registry and shared by every receipt that gives the same evidence.
    """
    cache = _memo_for(registry)
    key = ("decide", ruled, pattern)
    verdict = cache.get(key)
    if verdict is None:
        verdict = cache[key] = _weigh_pattern(registry, pattern, ruled)
    return verdict


def _weigh_pattern(registry, pattern: tuple, ruled: str | None) -> _Verdict:
    """:func:`_decide` for a pattern not seen before: the rules of the module docstring."""
    neutral = tuple(("", i) for i, item in enumerate(pattern) if item[0] is None)
    by_state = _pointing_by_state(pattern)
    if not by_state:
        return _Verdict(None, ZERO, ZERO, "no evidence of a State", neutral)
    ranked, scores, strong = _ranked(pattern, by_state)
    best = ranked[0]
    others = [i for st in ranked[1:] for i in by_state[st]]
    # The paying account's own country is explained, not contradicted, by its account rule.
    explained = [i for i in others if best == ruled and pattern[i][4]]
    conflicts = [i for i in others if i not in explained]
    other = max((scores[pattern[i][0]] for i in conflicts), default=ZERO)
    cited = (
        *[("", i) for i in by_state[best]],
        *[("against: ", i) for i in conflicts],
        *[("explained by the rule: ", i) for i in explained],
        *neutral,
    )
    state, problem = _problem(registry, pattern, ranked, scores, strong, conflicts)
    contradicted = tuple(i for i in conflicts if pattern[i][4]) if state else ()
    return _Verdict(state, scores[best], _q(scores[best] * (ONE - other)), problem, cited, contradicted)


def _pointing_by_state(pattern: tuple) -> dict[str, list[int]]:
    """The positions of the evidence pointing to each State.

    Switzerland mentioned by name beside another State says where, not who:
    it is left out when other States are named.
    """
    pointing = [i for i, item in enumerate(pattern) if item[0] is not None]
    if len({pattern[i][0] for i in pointing}) > 1:
        pointing = [i for i in pointing if not (pattern[i][3] and pattern[i][0] == HOST_ISO3)]
    by_state: dict[str, list[int]] = {}
    for i in pointing:
        by_state.setdefault(pattern[i][0], []).append(i)
    return by_state


def _ranked(pattern: tuple, by_state: dict[str, list[int]]) -> tuple[list[str], dict, dict]:
    """(the States, best first: strong evidence, then score, then code; each State's score; whether it has strong evidence)."""
    scores = {st: _noisy_or(pattern[i][1] for i in items) for st, items in by_state.items()}
    strong = {st: any(pattern[i][2] for i in items) for st, items in by_state.items()}
    return sorted(scores, key=lambda st: (not strong[st], -scores[st], st)), scores, strong


def _problem(registry, pattern: tuple, ranked: list[str], scores: dict, strong: dict, conflicts: list[int]):
    """(the State to name, why it cannot be assigned; None when it can)."""
    best = ranked[0]
    if conflicts:
        runner_up = ranked[1]
        tied = scores[runner_up] == scores[best] and strong[runner_up] == strong[best]
        names = ", ".join(sorted({best} | {pattern[i][0] for i in conflicts}))
        return (None if tied else best), f"conflict between {names}"
    if not strong[best]:
        return best, "country evidence only, no name"
    contributor = registry.get(best)
    if contributor is None or contributor.kind not in CONTRIBUTOR_KINDS:
        return best, f"{best} is not a contributor in the registry"
    return best, None


def _year_problem(ywp: YearWorkPlan, booking_year: int) -> tuple[int | None, int | None, str | None, str]:
    """(wp_year, suggested year, problem, why-part) from the remittance."""
    if ywp.ambiguous:
        years = ", ".join(str(y) for y in ywp.years)
        return None, ywp.years[0], f"several years in remittance ({years})", f"years {years} in '{_one_line(ywp.matched)}'"
    if ywp.year is None:
        note = "no year in remittance; booking year assumed"
        return booking_year, booking_year, note, f"booking year {booking_year} assumed"
    if not booking_year - YEARS_BACK <= ywp.year <= booking_year + YEARS_AHEAD:
        note = f"year {ywp.year} is far from the booking year {booking_year}"
        return ywp.year, ywp.year, note, note
    return ywp.year, ywp.year, None, f"'{_one_line(ywp.matched)}' -> {ywp.year}"


def identify(detail: Detail, entry: Entry, *, registry, rules, booking_date: datetime.date) -> Attribution:
    """Attribute one receipt; see the module docstring for the rules.

    ``rules`` is the list of :class:`ledger.rules.Rule` (or a prebuilt
    :class:`ledger.rules.RuleIndex`); ``booking_date`` gives the year
    assumed when the remittance names none (always flagged for review).

    The result depends only on the payer fields, the remittance text, the
    rule that applies and the booking year, so it is memoised on exactly
    those per registry: statements repeat the same payers all year.
    """
    rule, matched = find_rule(index_rules(rules), detail)
    key = (
        "identify", rule, matched, detail.payer, detail.ultimate_payer,
        remittance_text(detail, entry), detail.payer_account, detail.payer_country,
        detail.ultimate_payer_country, booking_date.year,
    )  # fmt: skip
    cache = _memo_for(registry)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _attribute(cache, registry, *key[1:])
    return hit


def _verdict(registry, rule, matched, payer, ultimate, account, country, ult_country):
    """(verdict, evidence, why-parts) from the payer's fields alone (the remittance names no State)."""
    head, tail = _payer_evidence(registry, rule, matched, payer, ultimate, account, country, ult_country)
    seen = head + tail
    verdict = _decide(registry, _pattern(seen), _ruled(rule, matched))
    return _cited(verdict, tuple(s.evidence for s in seen), payer)


def _named_verdict(cache, registry, rule, matched, payer, ultimate, text, matches, account, country, ult_country):
    """(verdict, evidence, why-parts) when the remittance ``text`` names States (``matches``).

    The remittance counts through the names found, never through the rest of
    its text, which only appears in the labels of its evidence: so the verdict
    is reached once per payer and names found, and each text adds its labels.
    """
    key = ("named", rule, matched, payer, ultimate, account, country, ult_country, *matches)
    outline = cache.get(key)
    if outline is None:
        head, tail = _payer_evidence(registry, rule, matched, payer, ultimate, account, country, ult_country)
        weighed = _weigh_names("remittance", matches)
        if namesake_marker(payer):
            # A company or a person paying: a State named in its text is a suggestion, not an identification.
            weighed = [(m, weight, False, host) for m, weight, _strong, host in weighed]
        named = [  # unlabelled: the decision never reads a label
            _Seen(_labelled("remittance", "", m, weight), strong=strong, incidental=host)
            for m, weight, strong, host in weighed
        ]
        verdict = _decide(registry, _pattern([*head, *named, *tail]), _ruled(rule, matched))
        before = tuple(s.evidence for s in head)
        after = tuple(s.evidence for s in tail)
        outline = cache[key] = (verdict, before, tuple(weight for _, weight, _, _ in weighed), after)
    verdict, before, weights, after = outline
    line = _one_line(text)
    named = tuple(_labelled("remittance", line, m, weight) for m, weight in zip(matches, weights, strict=True))
    return _cited(verdict, before + named + after, payer)


def _cited(verdict: _Verdict, evidence: tuple[Evidence, ...], payer: str | None):
    """(verdict, evidence, the why-parts citing the evidence)."""
    parts = tuple([prefix + evidence[i].text for prefix, i in verdict.cited])
    return verdict, evidence, parts or (f"payer '{_one_line(payer or '')}'",)


def _attribute(
    cache, registry, rule, matched, payer, ultimate, text, account, country, ult_country, booking_year
) -> Attribution:
    """The attribution of one identify key; ``cache`` is the registry's memo."""
    ywp = parse_remittance(text)
    matches = registry.find_names(text, remember=False)  # texts carry references: seldom seen twice
    if matches:  # the remittance names a State: it is evidence, and this text's own
        verdict = _named_verdict(
            cache, registry, rule, matched, payer, ultimate, text, matches, account, country, ult_country
        )
        return _decision(rule, *verdict, *_year_problem(ywp, booking_year), ywp.work_plan)
    # The remittance names no State (the usual case: "ISU 2025 ref 123"),
    # so the decision is the payer's alone and is made once per payer; only
    # the year is read from each text, and texts that say the same about it
    # ("ISU 2025 ref 123", "ISU 2025 ref 456") share one attribution.
    key = ("verdict", rule, matched, payer, ultimate, account, country, ult_country)
    verdict = cache.get(key)
    if verdict is None:
        verdict = cache[key] = _verdict(registry, rule, matched, payer, ultimate, account, country, ult_country)
    key = (
        "decision", rule, matched, payer, ultimate, account, country, ult_country, booking_year,
        # everything _year_problem and _decision read of the remittance
        ywp.year, ywp.years, ywp.ambiguous, ywp.matched, ywp.work_plan,
    )  # fmt: skip
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _decision(rule, *verdict, *_year_problem(ywp, booking_year), ywp.work_plan)
    return hit


def _decision(
    rule, verdict, evidence, parts, wp_year, suggested_year, year_problem, year_why, stated_plan
) -> Attribution:
    """The attribution from the verdict on the payer and what the remittance says of year and plan."""
    work_plan = stated_plan or (rule.work_plan if rule and rule.state_party == verdict.state else None)
    work_plan = work_plan or conventions.DEFAULT_WORK_PLAN
    plan_problem = None
    if work_plan not in conventions.WORK_PLANS:
        plan_problem = f"work plan '{work_plan}' has no account in the chart"

    problems = [p for p in (verdict.problem, year_problem, plan_problem) if p]
    parts = [*parts, f"year: {year_why}; work plan: {work_plan}"]

    if problems:
        head = "review: " + "; ".join(problems)
        if verdict.state:
            head += f"; suggest {verdict.state} (score {_q(verdict.score)})"
        why = "; ".join([head, *parts])
        conflict = None
        if verdict.contradicted:
            said = "; ".join(evidence[i].text.split(" -> ")[0] for i in verdict.contradicted)
            conflict = f"the payer's own account or address is in another country: {said}"
        return Attribution(
            state_party=None,
            wp_year=wp_year,
            work_plan=work_plan,
            confidence=verdict.confidence,
            why=why,
            needs_review=True,
            suggestion=verdict.state,
            suggested_year=suggested_year,
            evidence=evidence,
            conflict=conflict,
        )
    head = f"{verdict.state} {wp_year} {work_plan} (score {verdict.confidence})"
    return Attribution(
        state_party=verdict.state,
        wp_year=wp_year,
        work_plan=work_plan,
        confidence=verdict.confidence,
        why="; ".join([head, *parts]),
        needs_review=False,
        suggestion=None,
        suggested_year=None,
        evidence=evidence,
    )
