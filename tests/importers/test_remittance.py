"""Year and work plan from remittance text (importers/remittance.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.remittance import MAX_YEAR, MIN_YEAR, WORK_PLAN_TABLE, parse_remittance

# text, year, work plan (None: nothing said), ambiguous
CASES = [
    # English
    ("ISU 2026 Core Work Plan", 2026, "core", False),
    ("ISU 2025 CORE WORK PLAN", 2025, "core", False),
    ("ISU FY2026", 2026, None, False),
    ("ISU FY 2025", 2025, None, False),
    ("ISU FY-2025", 2025, None, False),
    ("2026 CWP", 2026, "core", False),
    ("ISU 2025 CWP IRELAND", 2025, "core", False),
    ("CONTRIBUTION 2026", 2026, None, False),
    ("ISU contribution 2025", 2025, None, False),
    ("ISU2025", 2025, None, False),
    ("isu 2025 work plan", 2025, "core", False),
    # French
    ("UAM 2026", 2026, None, False),
    ("UAM PLAN DE TRAVAIL 2025", 2025, "core", False),
    ("plan de travail 2026", 2026, "core", False),
    ("CONTRIBUTION UAM 2024", 2024, None, False),
    ("Contribution volontaire exercice 2025", 2025, None, False),
    # Spanish
    ("DAA 2026", 2026, None, False),
    ("APORTE DAA PLAN DE TRABAJO 2025", 2025, "core", False),
    ("contribución 2026", 2026, None, False),
    # German
    ("Beitrag 2026", 2026, None, False),
    ("Freiwilliger Beitrag ISU Arbeitsplan 2026", 2026, "core", False),
    # The same year twice is one year
    ("ISU 2025 CONTRIBUTION 2025", 2025, None, False),
    # No year
    ("VOLUNTARY CONTRIBUTION", None, None, False),
    ("", None, None, False),
    ("ISU FY26", None, None, False),  # two-digit years are never guessed
    ("ISU 1998", None, None, False),  # before the Convention: not a work-plan year
    ("ISU 3000", None, None, False),
    # Dates and months are not work-plan years
    ("ISU costs 2025-01", None, None, False),
    ("PAYMENT OF 2025-03-14", None, None, False),
    ("VALUE 14.01.2025", None, None, False),
    ("ISU 2026 SENT 14/01/2025", 2026, None, False),
    # Digits inside accounts, references and amounts
    ("DFAE CH9300762011623852957 ISU 2025 SUISSE", 2025, None, False),
    ("CH93 0076 2011 6238 5295 7 ISU 2025", 2025, None, False),
    ("CHF 2025.00 ISU 2024", 2024, None, False),
    ("REF 20251234 ISU 2025", 2025, None, False),
    ("INVOICE 2024/117 ISU 2025", 2025, None, False),
    # Several years, ranges: ambiguous
    ("ISU 2025-2026", None, None, True),
    ("ISU 2025/26", None, None, True),
    ("ISU 2025 - 2026", None, None, True),
    ("ISU 2024 AND 2025", None, None, True),
    ("CONTRIBUTION 2024 ISU 2025", None, None, True),
    ("APORTE 2025 a 2026", None, None, True),
    # Other work plans, from the table
    ("SPONSORSHIP PROGRAMME 2025", 2025, "sponsorship", False),
    ("PROGRAMME DE PARRAINAGE 2025", 2025, "sponsorship", False),
    ("PROGRAMA DE PATROCINIO 2025", 2025, "sponsorship", False),
    ("ISU PROJECT AB-12 2025", 2025, "project:AB-12", False),
]


@pytest.mark.parametrize("text,year,work_plan,ambiguous", CASES)
def test_year_and_work_plan(text, year, work_plan, ambiguous):
    got = parse_remittance(text)
    assert (got.year, got.work_plan, got.ambiguous) == (year, work_plan, ambiguous)
    if year is not None:
        assert str(year) in got.matched
        assert got.years == (year,)
    if ambiguous:
        assert len(got.years) >= 2 and got.year is None


def test_matched_names_the_text_that_gave_the_year():
    assert parse_remittance("ISU 2026 Core Work Plan").matched == "ISU 2026"
    assert parse_remittance("ISU FY2026").matched == "FY2026"
    assert parse_remittance("ISU 2025-2026").matched == "2025-2026"
    assert parse_remittance("UAM PLAN DE TRAVAIL 2025").work_plan_matched == "PLAN DE TRAVAIL"


def test_ambiguous_years_keep_their_order():
    assert parse_remittance("ISU 2026 (2025 PLEDGE)").years == (2026, 2025)
    assert parse_remittance("ISU 2025/26").years == (2025, 2026)


def test_specific_work_plans_are_checked_before_core():
    names = [row.name for row in WORK_PLAN_TABLE]
    assert names.index("core") == len(names) - 1
    # "work plan" would match core; sponsorship must win.
    assert parse_remittance("SPONSORSHIP PROGRAMME WORK PLAN 2025").work_plan == "sponsorship"


@given(st.text(max_size=80))
def test_any_text_gives_a_plausible_answer(text):
    got = parse_remittance(text)
    for year in got.years:
        assert MIN_YEAR <= year <= MAX_YEAR
    assert got.ambiguous == (len(got.years) > 1)
    assert (got.year is None) == (len(got.years) != 1)


@given(st.integers(MIN_YEAR, MAX_YEAR), st.sampled_from(["ISU {}", "UAM {} ", "{} CWP", "DAA {}", "FY{}"]))
def test_every_plausible_year_is_read(year, template):
    assert parse_remittance(template.format(year)).year == year


def test_staff_aliases_cannot_be_made_of_this_vocabulary():
    """The registry refuses an alias made of the words read here (a work
    plan, a year prefix): ledger.names keeps its own list, checked against
    this module's patterns so the two stay in step."""
    import re

    from importers import remittance
    from ledger.names import CONTRIBUTION_TERMS, GENERIC_TERMS, STOP_WORDS

    words = {w.lower() for pattern in WORK_PLAN_TABLE for w in re.findall(r"[A-Z]{2,}", pattern.pattern.pattern)}
    words -= {"me", "no", "code"}  # "PROGRAM(?:ME)?"; "PROJECT NO. X-12", "PROJECT CODE ...": a reference follows
    prefixes = re.search(r"\(\?:\(\?:([A-Z|]+)\)", remittance._YEAR_TOKEN.pattern).group(1)  # FY|AF|ISU|UAM|DAA
    words |= {w.lower() for w in prefixes.split("|")}
    known = CONTRIBUTION_TERMS | GENERIC_TERMS | STOP_WORDS
    assert len(words) > 20 and words <= known, sorted(words - known)
