"""The work-plan year and the work plan a payer wrote on a receipt.

States are asked to write "ISU [year] Core Work Plan"; they write it in
English, French ("UAM PLAN DE TRAVAIL 2025") or Spanish ("APORTE DAA PLAN DE
TRABAJO 2025"), or only "contribution 2026", "Beitrag 2026", "ISU FY2026".
What matters for the books is the *year of the work plan funded* (reports are
by work-plan year, not booking date) and, when a payer funds something other
than the core work plan, which one.

Decisions that guard against a wrong year:

- Only four-digit years 1999..2100 count, as whole tokens: digits inside an
  IBAN, a reference or an amount ("2025.00") never do.
- Dates are not work-plan years: "2025-01" (a month, as in "ISU costs
  2025-01"), "2025-01-14", "14.01.2025" and "14/01/2025" are removed first.
- A range ("ISU 2025-2026", "2025/26") names two years: ambiguous.
- Several different years are ambiguous; the same year twice is not.
- Amounts and two-digit years ("FY26") are never guessed at.

Parsing is pure and cached: bank files repeat the same few texts many times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MIN_YEAR = 1999  # the Convention entered into force on 1 March 1999
MAX_YEAR = 2100


@dataclass(frozen=True)
class YearWorkPlan:
    """What a remittance text says about the year and work plan.

    ``year`` is None when no year, or several (``ambiguous``), were found;
    ``years`` lists every distinct year in order of appearance (a range
    contributes both ends). ``work_plan`` is None when the text names none
    (the caller assumes the core work plan). ``matched`` is the text that
    gave the year (several, comma-separated, when ambiguous).
    """

    year: int | None
    work_plan: str | None
    matched: str
    ambiguous: bool
    years: tuple[int, ...] = ()
    work_plan_matched: str = ""


@dataclass(frozen=True)
class WorkPlanPattern:
    """One row of the work-plan table: a name and the phrases that mean it.

    If the pattern has a named group ``code`` (a project code), the work plan
    is ``f"{name}:{code}"`` with the code upper-cased.
    """

    name: str
    pattern: re.Pattern[str]


def _wp(name: str, *phrases: str) -> WorkPlanPattern:
    body = "|".join(phrases)
    return WorkPlanPattern(name, re.compile(rf"(?<![0-9A-Z])(?:{body})(?![0-9A-Z])", re.I))


# Checked in order; the first that matches wins, so specific programmes come
# before the core work plan (whose phrases "plan de travail" are generic).
# Adding a work plan is adding a row (and its account in conventions.WORK_PLANS).
WORK_PLAN_TABLE: tuple[WorkPlanPattern, ...] = (
    _wp(
        "sponsorship",
        r"SPONSORSHIP(?:\s+PROGRAM(?:ME)?)?",
        r"PROGRAMME\s+DE\s+PARRAINAGE",
        r"PARRAINAGE",
        r"PROGRAMA\s+DE\s+PATROCINIO",
        r"PATROCINIO",
    ),
    _wp(
        "project",
        r"PROJECT\s+(?:NO\.?\s*|CODE\s*)?(?P<code>[A-Z]{1,6}-?\d{1,6})",
        r"PROJET\s+(?:NO\.?\s*|N°\s*)?(?P<code2>[A-Z]{1,6}-?\d{1,6})",
        r"PROYECTO\s+(?:NO\.?\s*|N°\s*)?(?P<code3>[A-Z]{1,6}-?\d{1,6})",
    ),
    _wp(
        "core",
        r"CORE\s+WORK\s*PLAN",
        r"CORE\s+BUDGET",
        r"CWP",
        r"WORK\s*PLAN",
        r"PLAN\s+DE\s+TRAVAIL",
        r"PLAN\s+DE\s+TRABAJO",
        r"ARBEITSPLAN",
    ),
)

# --- Years -------------------------------------------------------------------

_YEAR = r"(?:19|20|21)\d\d"
# IBANs written in groups ("CH93 0076 2011 6238 5295 7") hold year-like groups.
_GROUPED_IBAN = re.compile(r"(?<![0-9A-Z])[A-Z]{2}\d{2}(?:\s[0-9A-Z]{4}){2,7}(?:\s[0-9A-Z]{1,3})?(?![0-9A-Z])", re.I)
# "2025-2026", "2025/26", "2025 - 2026", "2025 TO 2026" (checked as ascending below).
_RANGE = re.compile(
    rf"(?<![0-9A-Z.,/-])({_YEAR})\s*(?:[-/–]|\s(?:TO|AU|A|AL|BIS|Y|ET|AND)\s)\s*(\d{{4}}|\d{{2}})(?![0-9A-Z]|[.,]\d)",
    re.I,
)
# ISO dates and year-months ("2025-01", "2025-01-14"), day-first dates.
_ISO_DATE = re.compile(rf"(?<![0-9])({_YEAR})[-/.](0?[1-9]|1[0-2])(?:[-/.](\d{{1,2}}))?(?![0-9])")
_DMY_DATE = re.compile(rf"(?<![0-9])\d{{1,2}}[./-]\d{{1,2}}[./-]({_YEAR}|\d{{2}})(?![0-9])")
# A year: a whole token, optionally glued to a fiscal-year or ISU prefix
# ("FY2026", "ISU2026", "FY-2025"), never part of an amount or a reference.
_YEAR_TOKEN = re.compile(
    rf"(?<![0-9A-Z])(?:(?:FY|AF|ISU|UAM|DAA)[\s\-]?)?({_YEAR})(?![0-9A-Z]|[.,'’]\d|[/-]\d)",
    re.I,
)


def _plausible(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def _range_end(start: int, end_text: str) -> int | None:
    """The end year of "2025-2026"/"2025/26" when it is a real range."""
    if len(end_text) == 2:
        end = start - start % 100 + int(end_text)
        if end < start:
            end += 100
    else:
        end = int(end_text)
    if end <= start or end - start > 10 or not _plausible(end):
        return None
    return end


def _work_plan(text: str) -> tuple[str | None, str]:
    for row in WORK_PLAN_TABLE:
        m = row.pattern.search(text)
        if m is None:
            continue
        code = next((v for k, v in m.groupdict().items() if k.startswith("code") and v), None)
        name = f"{row.name}:{code.upper()}" if code else row.name
        return name, m.group(0)
    return None, ""


@lru_cache(maxsize=8192)
def parse_remittance(text: str) -> YearWorkPlan:
    """Year and work plan from a remittance text (pure, cached).

    >>> parse_remittance("UAM PLAN DE TRAVAIL 2025")
    YearWorkPlan(year=2025, work_plan='core', matched='2025', ambiguous=False, years=(2025,), work_plan_matched='PLAN DE TRAVAIL')
    """
    text = text or ""
    work_plan, wp_matched = _work_plan(text)
    found: list[tuple[int, str]] = []  # (year, text that gave it) in text order
    spans: list[tuple[int, tuple[tuple[int, str], ...]]] = []

    scrubbed = _GROUPED_IBAN.sub(lambda m: " " * len(m.group(0)), text)

    def blank(m: re.Match[str]) -> str:
        return " " * len(m.group(0))

    def take_range(m: re.Match[str]) -> str:
        start = int(m.group(1))
        end = _range_end(start, m.group(2))
        if end is None:
            return m.group(0)  # not a range: leave it for the other rules
        spans.append((m.start(), ((start, m.group(0)), (end, m.group(0)))))
        return blank(m)

    scrubbed = _RANGE.sub(take_range, scrubbed)
    scrubbed = _ISO_DATE.sub(blank, scrubbed)
    scrubbed = _DMY_DATE.sub(blank, scrubbed)
    for m in _YEAR_TOKEN.finditer(scrubbed):
        spans.append((m.start(), ((int(m.group(1)), m.group(0).strip()),)))
    for _, items in sorted(spans, key=lambda s: s[0]):
        found.extend(item for item in items if _plausible(item[0]))

    years = tuple(dict.fromkeys(year for year, _ in found))
    if not years:
        return YearWorkPlan(None, work_plan, "", False, (), wp_matched)
    matched = ", ".join(dict.fromkeys(m for _, m in found))
    if len(years) > 1:
        return YearWorkPlan(None, work_plan, matched, True, years, wp_matched)
    return YearWorkPlan(years[0], work_plan, matched, False, years, wp_matched)
