"""UBS e-banking CSV in English, German and French, with a collective order."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from importers.parse import parse_bytes, parse_file
from importers.model import BadFile
from importers.parse.serialize import to_json

DATA = Path(__file__).resolve().parents[2] / "data" / "statements"


@pytest.mark.parametrize("name", ["own-ubs-en.csv", "own-ubs-de.csv", "own-ubs-fr.csv"])
def test_languages_give_the_same_statement(assert_golden, name):
    result = parse_file(DATA / name)
    assert result.format == "ubs-csv" and result.warnings == []
    (stmt,) = result.statements
    assert stmt.account == "CH4500240240FP1006276" and stmt.currency == "CHF"
    assert stmt.opening.amount == Decimal("10000.00") and stmt.opening.date.isoformat() == "2026-06-30"
    assert stmt.closing.amount == Decimal("64750.00") and stmt.closing.date.isoformat() == "2026-07-31"
    assert stmt.balance_ok
    collective, single, fees = stmt.entries
    assert collective.amount == Decimal("40000.00") and collective.batch_count == 2
    assert [d.amount for d in collective.details] == [Decimal("25000.00"), Decimal("15000.00")]
    assert collective.details[0].payer == "PERMANENT MISSION OF CANADA"
    assert collective.details[0].remittance == "ISU 2026 Core Work Plan"
    assert collective.details[1].payer_account == "CH9300762011623852957"
    assert single.details[0].payer_account == "NL91ABNA0417164300"
    assert fees.amount == Decimal("-250.00") and fees.ref == "9930731TI0003"
    stripped = to_json(result)
    if name == "own-ubs-en.csv":
        assert_golden("parse/own-ubs-en", stripped)


def test_german_cp1252_is_decoded():
    data = (DATA / "own-ubs-de.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the sample really is the Windows export
    stmt = parse_bytes("x.csv", data).statements[0]
    assert "Genève" in stmt.entries[0].details[0].payer_address


def test_transaction_count_mismatch_is_a_warning():
    text = (DATA / "own-ubs-en.csv").read_text(encoding="utf-8-sig").replace("period:;3;", "period:;4;")
    result = parse_bytes("x.csv", text.encode())
    assert result.warnings == ["the export announces 4 transactions but holds 3"]


def test_bad_amount_and_orphan_detail_are_refused():
    text = (DATA / "own-ubs-en.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(BadFile, match="line 11: amount 'abc' is not a number"):
        parse_bytes("x.csv", text.replace("40'000.00", "abc").encode())
    header_end = text.index("Footnotes;") + len("Footnotes;\n")
    orphan = text[:header_end] + ";;;;CHF;;;5.00;;;X;;;;\n"
    with pytest.raises(BadFile, match="individual amount without a collective order"):
        parse_bytes("x.csv", orphan.encode())
