"""MT940: statement splitting, multi-page chaining, signs of reversals, :86: layouts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from importers.parse import parse_bytes, parse_file
from importers.model import Detail
from importers.parse.mt940 import join_86, read_86, split_statements
from importers.parse.serialize import to_json

DATA = Path(__file__).resolve().parents[2] / "data" / "statements"


def test_two_statements_one_multipage(assert_golden):
    result = parse_file(DATA / "own-two-statements-multipage.mt940")
    assert result.format == "mt940" and result.warnings == []
    first, second = result.statements
    assert (first.id, first.sequence) == ("OWN-A", "1/1")
    # Pages 2/1 (closing :62M:) and 2/2 (opening :60M:) are ONE statement.
    assert second.opening.amount == Decimal("3400.00") and second.closing.amount == Decimal("3050.00")
    assert second.opening.date.isoformat() == "2026-01-31"
    assert len(second.entries) == 2 and second.balance_ok
    assert_golden("parse/own-two-statements-multipage", to_json(result))


def test_reversal_marks_follow_swift():
    """RC = reversal of a credit (a debit); RD = reversal of a debit (a credit)."""
    first, second = parse_file(DATA / "own-two-statements-multipage.mt940").statements
    rc = first.entries[1]
    rd = second.entries[1]
    assert rc.reversal and rc.amount == Decimal("-100.00")
    assert rd.reversal and rd.amount == Decimal("50.00")
    assert rd.ref == "OWNB0002/20260220REVERSAL0001"


def test_ubs_layout_payer_iban_remittance():
    entry = parse_file(DATA / "own-two-statements-multipage.mt940").statements[0].entries[0]
    detail = entry.details[0]
    assert detail.payer == "MINISTRY OF FOREIGN AFFAIRS OF DENMARK"
    assert detail.payer_account == "DK5000400440116243"
    assert detail.remittance == "ISU 2026 CORE WORK PLAN"  # "ISU 20" + "26 CORE..." joined


def test_structured_subfields():
    detail = parse_file(DATA / "own-two-statements-multipage.mt940").statements[1].entries[1].details[0]
    assert detail.remittance == "RUECKBUCHUNG ISU 2026"
    assert (detail.payer, detail.payer_account) == ("AUSWAERTIGES AMT", "DE89370400440532013000")


def test_join_keeps_only_what_was_written():
    assert join_86("XXSTR\nASSE 1\n 10 ZUERICH") == "XXSTRASSE 1 10 ZUERICH"
    assert join_86(None) == ""


def test_postfinance_keywords():
    detail = Detail()
    read_86("GIRO AUFTRAGGEBER: ACME AG BERN 131209CH98765432 MITTEILUNGEN: ISU 2025", detail)
    assert (detail.payer, detail.remittance) == ("ACME AG BERN", "ISU 2025")


def test_free_text_without_iban_is_remittance():
    detail = Detail()
    read_86("EINZAHLUNGSSCHEIN", detail)
    assert (detail.payer, detail.remittance) == (None, "EINZAHLUNGSSCHEIN")


def test_split_without_terminator_and_envelopes():
    text = "{1:F01X}{2:I940X}{4:\n:20:A\n:25:1\n:60F:C250101CHF0,\n:62F:C250101CHF0,\n:20:B\n:25:1\n:60F:C250101CHF0,\n:62F:C250101CHF0,\n-}{5:{CHK:1}}"
    blocks = split_statements(text)
    assert [b.splitlines()[0] for b in blocks] == [":20:A", ":20:B"]


def test_statement_without_entries():
    result = parse_bytes("x.sta", b":20:A\r\n:25:1\r\n:28C:1\r\n:60F:D250101EUR5,5\r\n:62F:D250102EUR5,5\r\n-\r\n")
    (stmt,) = result.statements
    assert stmt.opening.amount == Decimal("-5.5") and stmt.balance_ok and stmt.entries == []
