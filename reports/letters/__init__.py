"""Letters to States Parties: an acknowledgement of each receipt and a
reminder of each overdue pledge, in the State's working language, as PDFs.

``model`` finds the letters in the books, ``wording`` words them from the
(staff-editable) templates with Babel's formats, ``render`` sets them as
PDFs. The command line (``isu-ledger letters``) and the web page
(``/letters/``) call :func:`letters` and record what they wrote.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from ledger.registry import Registry

from reports.letters.model import ACKNOWLEDGEMENT, KINDS, REMINDER, Letter, year_letters
from reports.letters.render import render_letter, sha256
from reports.letters.wording import LetterTemplateError, word

__all__ = ["ACKNOWLEDGEMENT", "KINDS", "REMINDER", "Letter", "LetterTemplateError", "Rendered", "letters", "render"]


@dataclass(frozen=True)
class Rendered:
    letter: Letter
    pdf: bytes
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.letter.file_stem}-{self.letter.language}.pdf"


def letters(books, year: int, kind: str, as_of: datetime.date | None = None) -> list[Letter]:
    """The letters of ``kind`` for work-plan ``year`` (not yet worded)."""
    return year_letters(books, year, kind, Registry.load(books.ledger_dir), as_of)


def render(letter: Letter, ledger_dir: Path | None, today: datetime.date) -> Rendered:
    """``letter`` worded (the ledger's templates first) and set as a PDF."""
    name = Registry.load(ledger_dir).display_name(letter.state_party, letter.language)
    worded = word(letter, name, today, ledger_dir)
    pdf = render_letter(worded, worded.subject)
    return Rendered(letter=letter, pdf=pdf, sha256=sha256(pdf))
