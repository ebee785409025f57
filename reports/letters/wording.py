"""A letter worded in its language: the text template of its kind and
language filled with the letter's figures, formatted for that language by
Babel (CLDR): "12,345.50" in English, "12 345,50" in French, "12.345,50" in
Spanish; "5 March 2026", "5 mars 2026", "5 de marzo de 2026".

Templates are Jinja text files, ``<language>/<kind>.txt``: the packaged ones
in ``reports/letters/templates/``, overridden by a file at the same place
under the ledger's ``letters/templates/`` (so staff can reword a letter
without a software release, and the wording is versioned with the books).
A template is rendered in Jinja's sandbox with undefined names refused, so
a mistyped name fails the letter instead of leaving a gap in it.

The rendered text is plain: the PDF renderer escapes it. Its first line is
the subject; paragraphs are separated by blank lines; a line that starts
with two spaces is a detail line (the bank details, the amounts).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from reports.letters.model import Letter

LEDGER_TEMPLATES = "letters/templates"  # under the ledger directory: staff's own wording
SENDER = "Implementation Support Unit"
CONVENTION_SHORT = {
    "en": "Anti-Personnel Mine Ban Convention",
    "fr": "Convention sur l'interdiction des mines antipersonnel",
    "es": "Convención sobre la Prohibición de Minas Antipersonal",
}
UNIT = {"en": "Implementation Support Unit", "fr": "Unité d'appui à l'application", "es": "Dependencia de Apoyo a la Aplicación"}


class LetterTemplateError(ValueError):
    """A template that cannot be read or rendered; ``str()`` is one line naming it."""


@dataclass(frozen=True)
class Worded:
    """A letter's text in its language, ready to be set."""

    language: str
    subject: str
    paragraphs: tuple[str, ...]  # each possibly several lines; detail lines start with two spaces
    heading: str  # the unit's name in the language
    convention: str
    place_date: str  # "Geneva, 4 December 2026"


def money(amount: Decimal, currency: str, language: str) -> str:
    """An amount with its ISO currency code, as a bank letter writes it, the
    digits grouped as the language does: ``CHF 12,345.50``, ``12 345,50 EUR``."""
    pattern = "¤¤\u00a0#,##0.00" if language == "en" else "#,##0.00\u00a0¤¤"
    return format_currency(amount, currency, format=pattern, locale=language, currency_digits=False)


def day(value: datetime.date, language: str) -> str:
    pattern = "d MMMM y" if language == "en" else "long"  # the international English date: 5 March 2026
    return format_date(value, pattern, locale=language)


def template_source(kind: str, language: str, ledger_dir: Path | None) -> tuple[str, str]:
    """(text, where) of the template of ``kind`` in ``language``: the ledger's own, else the packaged one."""
    rel = f"{language}/{kind}.txt"
    if ledger_dir is not None:
        own = Path(ledger_dir) / LEDGER_TEMPLATES / rel
        if own.is_file():
            try:
                return own.read_text(encoding="utf-8-sig"), f"{LEDGER_TEMPLATES}/{rel}"
            except (OSError, UnicodeDecodeError) as exc:
                raise LetterTemplateError(f"{LEDGER_TEMPLATES}/{rel}: cannot be read ({exc.__class__.__name__})") from None
    packaged = resources.files("reports.letters").joinpath("templates", language, f"{kind}.txt")
    return packaged.read_text(encoding="utf-8"), f"reports/letters/templates/{rel}"


def context(letter: Letter, state_name: str, today: datetime.date) -> dict:
    """The names a template may use (docs/letters.md lists them)."""
    lang = letter.language
    instructed = letter.instructed
    return {
        "state": state_name,
        "state_party": letter.state_party,
        "year": letter.wp_year,
        "work_plan": letter.work_plan,
        "amount": money(letter.amount, letter.currency, lang),
        "currency": letter.currency,
        "date": day(letter.date, lang),
        "reference": letter.reference,
        "instructed": money(instructed[0], instructed[1], lang) if instructed else None,
        "pledged": money(letter.pledged, letter.currency, lang) if letter.pledged is not None else None,
        "pledged_on": day(letter.pledged_on, lang) if letter.pledged_on else None,
        "pledge_id": letter.key if letter.kind == "reminder" else None,
        "note": letter.note,
        "bank": letter.bank,
        "today": day(today, lang),
        "unit": UNIT[lang],
    }


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def word(letter: Letter, state_name: str, today: datetime.date, ledger_dir: Path | None = None) -> Worded:
    """``letter`` in its language, from its template."""
    source, where = template_source(letter.kind, letter.language, ledger_dir)
    try:
        text = _ENV.from_string(source).render(context(letter, state_name, today))
    except TemplateError as exc:
        raise LetterTemplateError(f"{where}: {' '.join(str(exc).split())}") from None
    blocks = [b.rstrip() for b in text.replace("\r\n", "\n").split("\n\n")]
    blocks = [b.strip("\n") for b in blocks if b.strip()]
    if not blocks:
        raise LetterTemplateError(f"{where}: the letter is empty")
    subject, *paragraphs = blocks
    place = {"en": "Geneva", "fr": "Genève", "es": "Ginebra"}[letter.language]
    return Worded(language=letter.language, subject=" ".join(subject.split()), paragraphs=tuple(paragraphs),
                  heading=UNIT[letter.language], convention=CONVENTION_SHORT[letter.language],
                  place_date=f"{place}, {day(today, letter.language)}")
