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
Most texts are new all the same (they carry references and invoice numbers),
so each regular expression is first asked a cheaper question about an ASCII
text - could it match at all? - and skipped when the answer is no (see
:func:`_shape`); the answer only ever skips a pass that would have found
nothing, so the result is the same.
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
    is ``f"{name}:{code}"`` with the code upper-cased. ``needles``: words one
    of which every match contains (upper case), so an ASCII text containing
    none of them is not searched; None when a phrase has no such word.
    """

    name: str
    pattern: re.Pattern[str]
    needles: tuple[str, ...] | None = None


def _top_level_alternation(phrase: str) -> bool:
    """Whether ``phrase`` has a ``|`` outside any group or character class."""
    depth = 0
    i = 0
    while i < len(phrase):
        ch = phrase[i]
        if ch == "\\":
            i += 1
        elif ch == "[":
            i += 2 if phrase[i + 1 : i + 2] == "]" else 1  # "[]...]": a leading "]" is literal
            while i < len(phrase) and phrase[i] != "]":
                i += 2 if phrase[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def _needle(phrase: str) -> str | None:
    """The letters every match of ``phrase`` starts with ("WORK" of ``WORK\\s*PLAN``), if any.

    The leading run of plain letters, less its last letter when a quantifier
    makes that one optional ("PROGRAMM?E" -> "PROGRAM"); None when the phrase
    starts otherwise or is itself an alternation.
    """
    lead = re.match(r"[A-Za-z]+", phrase)
    if lead is None or _top_level_alternation(phrase):
        return None
    letters = lead.group(0)
    if phrase[len(letters) : len(letters) + 1] in ("?", "*", "{"):
        letters = letters[:-1]
    return letters.upper() or None


def _wp(name: str, *phrases: str) -> WorkPlanPattern:
    body = "|".join(phrases)
    needles = tuple(_needle(phrase) for phrase in phrases)
    return WorkPlanPattern(
        name,
        re.compile(rf"(?<![0-9A-Z])(?:{body})(?![0-9A-Z])", re.I),
        None if None in needles else tuple(dict.fromkeys(needles)),
    )


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


# The shape of an ASCII text: every digit "9", every letter "a", every space
# (what ``\s`` matches) " ", other characters as they are. Each scrubbing pass
# needs a digit pattern that shows in the shape ("2025-01" is "9999-99"), so a
# shape without it means the pass would find nothing, and a year token needs
# "9999". Non-ASCII text (where ``re.I`` also matches "ſ" or "K") takes every
# pass. Plain ``in`` tests, not a regular expression: they cost far less.
_SHAPE = bytes(
    ord("9") if ch.isdigit() else ord("a") if ch.isalpha() else ord(" ") if ch.isspace() else ord(ch)
    for ch in map(chr, range(128))
) + bytes(range(128, 256))  # a bytes table: ``bytes.translate`` is much quicker than ``str.translate``


def _shape(text: str) -> str | None:
    """The shape of ``text`` when it is ASCII, else None (every pass is taken)."""
    return text.encode("ascii").translate(_SHAPE).decode("ascii") if text.isascii() else None


def _work_plan(text: str) -> tuple[str | None, str]:
    # Upper-cased ASCII is what ``re.I`` compares a row's needles with.
    upper = text.upper() if text.isascii() else None
    for row in WORK_PLAN_TABLE:
        if upper is not None and row.needles is not None:
            for needle in row.needles:
                if needle in upper:
                    break
            else:
                continue  # none of the words every match contains: the search would fail
        m = row.pattern.search(text)
        if m is None:
            continue
        code = next((v for k, v in m.groupdict().items() if k.startswith("code") and v), None)
        name = f"{row.name}:{code.upper()}" if code else row.name
        return name, m.group(0)
    return None, ""


@lru_cache(maxsize=4096)
def _answer(*fields) -> YearWorkPlan:
    """The :class:`YearWorkPlan` of ``fields``, one shared object per distinct answer.

    Texts that differ only in their references give the same few answers, and
    finding one costs less than building a frozen dataclass.
    """
    return YearWorkPlan(*fields)


def forget_answers() -> None:
    """Forget the shared answers (benchmarks of the cold path; see ``identify.clear_caches``)."""
    _answer.cache_clear()


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _scrub(text: str, shape: str | None, spans: list) -> tuple[str, str | None]:
    """``text`` with grouped IBANs, ranges and dates blanked, and its new shape.

    Ranges go to ``spans`` as they are taken. Each pass is skipped when the
    shape of the text as scrubbed so far rules it out; a pass that changed the
    text is followed by a fresh shape.
    """

    def take_range(m: re.Match[str]) -> str:
        start = int(m.group(1))
        end = _range_end(start, m.group(2))
        if end is None:
            return m.group(0)  # not a range: leave it for the other rules
        spans.append((m.start(), ((start, m.group(0)), (end, m.group(0)))))
        return _blank(m)

    scrubbed = text
    if shape is None or "aa99 " in shape:  # two letters, two digits, then a group
        scrubbed = _GROUPED_IBAN.sub(_blank, scrubbed)
        shape = shape if scrubbed is text else _shape(scrubbed)
    # A year, then "-", "/" or a word ("TO", "AU", ...), then digits: spaces removed.
    compact = None if shape is None else shape.replace(" ", "")
    if (
        compact is None
        or "9-9" in compact or "9/9" in compact
        or "9a9" in compact or "9aa9" in compact or "9aaa9" in compact
    ):  # fmt: skip
        before = scrubbed
        scrubbed = _RANGE.sub(take_range, scrubbed)
        shape = shape if scrubbed is before else _shape(scrubbed)
    if shape is None or "9-9" in shape or "9/9" in shape or "9.9" in shape:  # digits separated as in dates
        before = scrubbed
        scrubbed = _DMY_DATE.sub(_blank, _ISO_DATE.sub(_blank, scrubbed))
        shape = shape if scrubbed is before else _shape(scrubbed)
    return scrubbed, shape


@lru_cache(maxsize=8192)
def parse_remittance(text: str) -> YearWorkPlan:
    """Year and work plan from a remittance text (pure, cached).

    >>> parse_remittance("UAM PLAN DE TRAVAIL 2025")
    YearWorkPlan(year=2025, work_plan='core', matched='2025', ambiguous=False, years=(2025,), work_plan_matched='PLAN DE TRAVAIL')
    """
    text = text or ""
    work_plan, wp_matched = _work_plan(text)
    spans: list[tuple[int, tuple[tuple[int, str], ...]]] = []  # (start, (year, text that gave it)...)
    scrubbed, shape = _scrub(text, _shape(text), spans)
    ranges = bool(spans)
    first, last = (0, len(scrubbed)) if shape is None else (shape.find("9999"), shape.rfind("9999"))
    if first >= 0:
        # A year token holds four digits, at most four characters of prefix
        # before them and needs at most two characters after them.
        for m in _YEAR_TOKEN.finditer(scrubbed, max(first - 4, 0), last + 6):
            spans.append((m.start(), ((int(m.group(1)), m.group(0).strip()),)))
    if ranges:
        spans.sort(key=lambda s: s[0])  # year tokens are found in text order already
    found = [item for _, items in spans for item in items if _plausible(item[0])]  # in text order

    if len(found) == 1:  # the usual "ISU 2025 ..."
        [(year, matched)] = found
        return _answer(year, work_plan, matched, False, (year,), wp_matched)
    years = tuple(dict.fromkeys(year for year, _ in found))
    if not years:
        return _answer(None, work_plan, "", False, (), wp_matched)
    matched = ", ".join(dict.fromkeys(m for _, m in found))
    if len(years) > 1:
        return _answer(None, work_plan, matched, True, years, wp_matched)
    return _answer(years[0], work_plan, matched, False, years, wp_matched)
