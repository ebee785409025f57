"""importers/beangulp_importer.py: the one path of a bank file, through beangulp or isu-ledger import.

The books are ``ledger_dir`` (opening balance 612408.15 CHF on 2025-12-31);
the statements come from the test camt.053 builder.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from beancount.core import data
from beancount.parser import parser, printer
from common.statements import GERMANY, GICHD_IBAN, NORWAY, write_camt053

from importers.beangulp_importer import IsuBankImporter
from importers.importing import import_files
from ledger import conventions

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "beangulp-import.py"
OPENING = ("2025-12-31", "612408.15")
JANUARY = [
    {"date": "2026-01-12", "amount": "94100.00", "ref": "UBS202601120001", **GERMANY, "text": "ISU 2026 Core Work Plan",
     "instructed": ("100000.00", "EUR", "0.9410")},
    {"date": "2026-01-20", "amount": "-58000.00", "ref": "UBS202601200002", "name": "GICHD", "iban": GICHD_IBAN,
     "text": "ISU costs January 2026"},
    {"date": "2026-01-28", "amount": "1200.00", "ref": "UBS202601280003", "name": "ANONYMOUS DONOR", "text": "gift"},
]
FEBRUARY = [
    {"date": "2026-02-10", "amount": "50000.00", "ref": "UBS202602100001", **NORWAY, "text": "ISU 2026 contribution"},
]


@pytest.fixture
def statements(tmp_path) -> list[Path]:
    jan = write_camt053(tmp_path / "ubs-2026-01.camt053.xml", JANUARY, opening=OPENING, ident="S-2026-01")
    closing = sum(float(e["amount"]) for e in JANUARY) + float(OPENING[1])
    feb = write_camt053(tmp_path / "ubs-2026-02.camt053.xml", FEBRUARY, opening=("2026-01-31", f"{closing:.2f}"),
                        ident="S-2026-02")
    return [jan, feb]


def printed(entries) -> list[str]:
    """The entries as Beancount text, one string each, in a fixed order."""
    return sorted(printer.format_entry(e).strip() for e in entries)


def beangulp_extract(cwd: Path, *args: str) -> list[str]:
    """Run the example configuration (docs/beangulp-import.py) with beangulp's ``extract``; the entries it prints.

    beangulp prints each entry with Beancount's printer and a blank line, under
    a header and a line per file (comments and org-mode headings to Beancount).
    """
    out = subprocess.run([sys.executable, str(EXAMPLE), "extract", *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    _, errors, _ = parser.parse_string(out.stdout)
    assert not errors, errors
    blocks = [b.strip() for b in out.stdout.split("\n\n")]
    return sorted(b for b in blocks if b and not b.startswith((";", "*")))


def test_beangulp_extract_gives_what_the_import_dry_run_books(ledger_dir, statements):
    """The example config run by beangulp and ``isu-ledger import --dry-run`` book the same entries."""
    preview = import_files(ledger_dir, statements, dry_run=True, user="test")
    assert preview.imported == 4
    expected = printed(preview.entries)
    assert sum(e.startswith("2026-") and " document " in e for e in expected) == 2
    cwd = ledger_dir.parent  # the example config names ./books
    assert beangulp_extract(cwd, "-e", "books/main.beancount", *map(str, statements)) == expected
    # Without -e the importer loads the books itself: the same entries.
    assert beangulp_extract(cwd, *map(str, statements)) == expected


def test_extract_after_the_import_gives_nothing_new(ledger_dir, statements):
    import_files(ledger_dir, statements[:1], user="test")
    importer = IsuBankImporter(ledger_dir)
    assert importer.extract(str(statements[0]), []) == []
    # The next month continues the books as they are now.
    (txn, balance, document) = IsuBankImporter(ledger_dir).extract(str(statements[1]), [])
    assert isinstance(txn, data.Transaction) and txn.meta[conventions.META_BANK_REF] == "UBS202602100001"
    assert isinstance(balance, data.Balance) and isinstance(document, data.Document)


def test_protocol(ledger_dir, statements, tmp_path):
    importer = IsuBankImporter(ledger_dir)
    jan = str(statements[0])
    assert importer.iban == "CH4500240240FP1006276" and importer.name == "isu.CH4500240240FP1006276"
    assert importer.identify(jan)
    assert importer.account(jan) == conventions.BANK
    assert importer.date(jan) == datetime.date(2026, 1, 28)
    assert importer.filename(jan) == "ubs-2026-01.camt053.xml"
    assert not IsuBankImporter(ledger_dir, iban="CH9300762011623852957").identify(jan)
    other = tmp_path / "notes.txt"
    other.write_text("not a bank file\n", encoding="utf-8")
    assert not importer.identify(str(other))
