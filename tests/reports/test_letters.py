"""Letters to States (``reports.letters``): found in the books, worded in
the State's language with Babel's formats, set as PDFs.

The letters of the demo books are checked against the ledger read another
way (BQL), their PDFs read back as text (pypdfium2), and one English, one
French and one Spanish letter of each kind rendered to PNG with pdftoppm
into build/letters/ for a person to look at.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from collections import namedtuple
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from beanquery import query

from ledger.loader import load_books
from ledger.registry import Registry
from reports.letters import ACKNOWLEDGEMENT, REMINDER, LetterTemplateError, letters, render
from reports.letters.bank import bank_details
from reports.letters.model import Letter, payment_reference
from reports.letters.wording import day, money
from reports.outlook import outlook_report

YEAR = 2026
TODAY = datetime.date(2026, 12, 4)
BUILD = Path(__file__).resolve().parents[2] / "build" / "letters"


@pytest.fixture(scope="module")
def books(demo_ledger):
    return load_books(demo_ledger)


def pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def flat(text: str) -> str:
    """PDF text with every kind of space and line break as one space."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


# --- what the letters say is what the ledger says ----------------------------------------

RECEIPTS_BQL = (
    "SELECT date, entry_meta('bank_ref') AS ref, meta('state_party') AS state, neg(number) AS amount, "
    "meta('instructed') AS instructed "
    "WHERE (account ~ '^Income:Contributions:' AND account != 'Income:Contributions:Unidentified' "
    "OR account = 'Liabilities:Contributions:ReceivedInAdvance') "
    "AND meta('wp_year') = {year} AND number < 0 AND NOT (any_meta('isu_kind') = 'recognition')"
)


Row = namedtuple("Row", "date ref state amount instructed")


def test_acknowledgement_amount_date_and_reference_are_the_ledger_entry(books):
    """Every receipt of the year read with BQL (one row per posting) is one
    letter with its CHF amount, booking date and bank reference, and its PDF
    prints them."""
    _, rows = query.run_query(books.entries, books.options_map, RECEIPTS_BQL.format(year=YEAR))
    rows = [Row(*row) for row in rows]
    reversed_refs = {str(e.meta["reversal_of"]) for e in books.entries if (getattr(e, "meta", None) or {}).get("reversal_of")}
    ledger = {f"{r.ref}/{r.state}": r for r in rows if r.ref not in reversed_refs}
    found = {letter.key: letter for letter in letters(books, YEAR, ACKNOWLEDGEMENT)}
    assert len(found) >= 20
    assert set(found) == set(ledger)
    for key, letter in found.items():
        row = ledger[key]
        assert (letter.amount, letter.date, letter.reference, letter.state_party) == (row.amount, row.date, row.ref, row.state)
        if row.instructed and not str(row.instructed).endswith(" CHF"):
            number, currency = str(row.instructed).split()
            assert letter.instructed == (Decimal(number), currency)
    # The PDF of one with an instructed foreign amount prints all of it, in its language's formats.
    letter = next(x for x in found.values() if x.instructed)
    text = flat(pdf_text(render(letter, books.ledger_dir, TODAY).pdf))
    for shown in (money(letter.amount, "CHF", letter.language), day(letter.date, letter.language), letter.reference,
                  money(*letter.instructed, letter.language), str(YEAR)):
        assert flat(shown) in text


def test_reminders_are_the_overdue_pledges_of_the_outlook(books):
    """The States reminded are the outlook's overdue States; each reminder
    asks for what is still due on the pledge, with the bank details and the
    payment reference the ISU asks States to write."""
    outlook = outlook_report(books, YEAR)
    overdue = {s.state_party: s for s in outlook.states if s.overdue}
    found = letters(books, YEAR, REMINDER)
    assert found and {r.state_party for r in found} == set(overdue)
    for r in found:
        assert r.date < outlook.header.as_of and r.currency == "CHF"
        assert r.amount == overdue[r.state_party].outstanding
        assert r.reference == "ISU 2026 Core Work Plan" == payment_reference(YEAR)
    text = flat(pdf_text(render(found[0], books.ledger_dir, TODAY).pdf))
    for shown in ("CH45 0024 0240 FP10 0627 6", "UBSWCHZH80A", "ISU 2026 Core Work Plan", found[0].key,
                  money(found[0].amount, "CHF", found[0].language), day(found[0].date, found[0].language)):
        assert flat(shown) in text


def test_demo_states_have_their_languages(books):
    registry = Registry.load(books.ledger_dir)
    assert registry.get("BEL").language == "fr" and registry.get("ARG").language == "es"
    assert registry.get("AUT").language is None  # English
    languages = {letter.language for kind in (ACKNOWLEDGEMENT, REMINDER) for letter in letters(books, YEAR, kind)}
    assert languages == {"en", "fr", "es"}


@pytest.mark.parametrize("kind", [ACKNOWLEDGEMENT, REMINDER])
def test_one_letter_per_language_as_png(books, kind):
    """One English, one French and one Spanish letter, rendered to
    build/letters/<kind>-<language>.png; each in its language's words and formats."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    BUILD.mkdir(parents=True, exist_ok=True)
    words = {"en": ("Excellency", "December"), "fr": ("Excellence", "décembre"), "es": ("Excelencia", "diciembre")}
    found = letters(books, YEAR, kind)
    for language, (greeting, month) in words.items():
        letter = next(x for x in found if x.language == language)
        rendered = render(letter, books.ledger_dir, TODAY)
        text = flat(pdf_text(rendered.pdf))
        assert greeting in text and f"4 {month} 2026" in text.replace("4 de diciembre de", "4 diciembre")
        assert flat(money(letter.amount, letter.currency, language)) in text
        pdf = BUILD / f"{kind}-{language}.pdf"
        pdf.write_bytes(rendered.pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(BUILD / f"{kind}-{language}")],
                       check=True)
        assert (BUILD / f"{kind}-{language}.png").stat().st_size > 10_000


def test_formats_by_language():
    amount = Decimal("12345.50")
    assert money(amount, "CHF", "en") == "CHF\u00a012,345.50"
    assert flat(money(amount, "CHF", "fr")) == "12 345,50 CHF"
    assert flat(money(amount, "EUR", "es")) == "12.345,50 EUR"
    assert money(amount, "USD", "en") == "USD\u00a012,345.50"
    assert day(datetime.date(2026, 3, 5), "en") == "5 March 2026"
    assert day(datetime.date(2026, 3, 5), "fr") == "5 mars 2026"
    assert day(datetime.date(2026, 3, 5), "es") == "5 de marzo de 2026"


# --- the same letter, the same bytes; hostile text stays text ----------------------------


def _letter(**changes) -> Letter:
    values = dict(kind=REMINDER, key="P-2026-BEL-01", state_party="BEL", language="fr", wp_year=2026, work_plan="core",
                  amount=Decimal("2500.00"), currency="EUR", date=datetime.date(2026, 9, 30),
                  reference=payment_reference(2026), bank=bank_details([]), pledged=Decimal("10000"),
                  pledged_on=datetime.date(2026, 3, 20), note=None)
    values.update(changes)
    return Letter(**values)


def test_the_same_letter_gives_the_same_bytes():
    first, second = render(_letter(), None, TODAY), render(_letter(), None, TODAY)
    assert first.pdf == second.pdf and first.sha256 == second.sha256
    assert render(_letter(amount=Decimal("2500.01")), None, TODAY).sha256 != first.sha256
    assert first.filename == "reminder-2026-BEL-P-2026-BEL-01-fr.pdf"


def test_markup_in_a_note_is_printed_as_text():
    note = '<font size="40">BIG</font> & <a href="x">link</a>'
    text = flat(pdf_text(render(_letter(note=note), None, TODAY).pdf))
    assert flat(note) in text


# --- staff templates ----------------------------------------------------------------------


def test_a_template_in_the_ledger_overrides_the_packaged_one(tmp_path):
    own = tmp_path / "letters" / "templates" / "fr"
    own.mkdir(parents=True)
    (own / "reminder.txt").write_text("Rappel {{ pledge_id }}\n\nMontant dû : {{ amount }} au {{ date }}.\n", encoding="utf-8")
    text = flat(pdf_text(render(_letter(), tmp_path, TODAY).pdf))
    assert "Rappel P-2026-BEL-01" in text and "Montant dû : 2 500,00 EUR au 30 septembre 2026." in text
    assert "Excellence" not in text
    # The other kinds and languages keep the packaged wording.
    assert "Excelencia" in pdf_text(render(_letter(language="es"), tmp_path, TODAY).pdf)


@pytest.mark.parametrize("source, problem", [
    ("Rappel {{ amout }}\n", "'amout' is undefined"),
    ("Rappel {% if %}\n", "letters/templates/fr/reminder.txt: "),
    ("{{ ''.__class__.__mro__ }}\n", "letters/templates/fr/reminder.txt: "),
    ("\n\n", "the letter is empty"),
])
def test_a_broken_template_is_refused_in_one_line(tmp_path, source, problem):
    own = tmp_path / "letters" / "templates" / "fr"
    own.mkdir(parents=True)
    (own / "reminder.txt").write_text(source, encoding="utf-8")
    with pytest.raises(LetterTemplateError) as caught:
        render(_letter(), tmp_path, TODAY)
    message = str(caught.value)
    assert message.startswith("letters/templates/fr/reminder.txt: ") and problem in message and "\n" not in message


# --- receipts: reversals and recognitions are not receipts -----------------------------------


def test_reversed_payments_and_recognitions_are_not_acknowledged(report_books):
    books = load_books(report_books)
    keys = {letter.key for letter in letters(books, 2024, ACKNOWLEDGEMENT)}
    assert "R2024ITA2/ITA" in keys  # the payment sent again
    assert not {k for k in keys if k.startswith("R2024ITA1")}  # the reversed one and its reversal
    charged = next(x for x in letters(books, 2024, ACKNOWLEDGEMENT) if x.key == "R2024CHE/CHE")
    assert charged.amount == Decimal("60000.00")  # gross: what the State sent, before the bank's charges
    advance = {letter.key: letter for letter in letters(books, 2025, ACKNOWLEDGEMENT)}
    assert advance["R2025NORADV/NOR"].date == datetime.date(2024, 12, 15)  # counted once, when it arrived


def test_a_reminder_asks_for_what_is_due_in_the_pledges_currency(report_books):
    """2025 of the fixture books, as at 30 September: Belgium pledged EUR
    50,000 and paid EUR 25,000 (CHF 23,525); Italy pledged EUR 20,000 and
    paid nothing (no rate: not valued in CHF, still reminded); Switzerland
    paid CHF 30,000 of 60,000; Norway (an advance in December and the rest),
    Germany and Senegal paid in full."""
    books = load_books(report_books)
    due = {r.state_party: (r.amount, r.currency, r.pledged, r.key) for r in letters(books, 2025, REMINDER)}
    assert due == {
        "BEL": (Decimal("25000.00"), "EUR", Decimal("50000.00"), "P-2025-BEL"),
        "ITA": (Decimal("20000.00"), "EUR", Decimal("20000.00"), "P-2025-ITA"),
        "CHE": (Decimal("30000.00"), "CHF", Decimal("60000.00"), "P-2025-CHE"),
    }
    # Not yet overdue on the day before the expected date.
    assert letters(books, 2025, REMINDER, as_of=datetime.date(2025, 6, 29)) == []
