"""camt.052/053/054 parsing: the year-2025 sample set, own samples for every
FORMATS.md point the real files miss, and schema validation of the samples."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from importers.parse import parse_file
from importers.parse.serialize import to_json

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
YEAR = SHARED / "samples" / "year2025"
SCHEMAS = SHARED / "schemas" / "camt"
REAL = SHARED / "real-statements"
DATA = Path(__file__).resolve().parents[2] / "data" / "statements"
needs_shared = pytest.mark.skipif(not YEAR.is_dir(), reason="../shared is missing")
YEAR_FILES = json.loads((YEAR / "expected.json").read_text())["files"] if YEAR.is_dir() else []


@needs_shared
@pytest.mark.parametrize("expected", YEAR_FILES, ids=lambda f: f["file"])
def test_year2025_files(assert_golden, expected):
    result = parse_file(YEAR / expected["file"])
    (stmt,) = result.statements
    assert stmt.account == "CH4500240240FP1006276"
    assert stmt.opening.amount == Decimal(expected["opening"])
    assert stmt.closing.amount == Decimal(expected["closing"])
    assert len(stmt.entries) == expected["entries"]
    assert stmt.balance_ok is True and result.warnings == []
    assert_golden(f"parse/year2025-{Path(expected['file']).stem}", to_json(result))


def _own(name):
    return parse_file(DATA / name)


def test_own_053_v08_statements_of_two_accounts(assert_golden):
    result = _own("own-camt053-v08-features.xml")
    chf, eur = result.statements
    assert (chf.account, eur.account) == ("CH4500240240FP1006276", "0240-FP100627.7")
    assert (chf.currency, eur.currency) == ("CHF", "EUR")
    assert chf.balance_ok and eur.balance_ok
    assert eur.copy == "DUPL" and chf.sequence == "3"
    assert chf.closing.date.isoformat() == "2026-03-31"  # Dt/DtTm with Z
    assert chf.period[0].isoformat() == "2026-03-01"
    assert_golden("parse/own-camt053-v08-features", to_json(result))


def test_own_ultimate_debtor_charges_scor():
    first = _own("own-camt053-v08-features.xml").statements[0].entries[0]
    assert first.booked.isoformat() == "2026-03-02"  # DtTm ...Z: the date as written
    detail = first.details[0]
    assert detail.payer == "BANQUE DE FRANCE"
    assert detail.ultimate_payer == "MINISTERE DE L'EUROPE ET DES AFFAIRES ETRANGERES"
    assert (detail.payer_country, detail.ultimate_payer_country) == ("FR", "FR")
    assert detail.payer_address == "Rue Croix des Petits Champs 39, 75001 Paris"
    assert detail.payer_account == "FR7630006000011234567890189"
    assert detail.counterparty_bic == "BDFEFRPPXXX"
    assert detail.remittance == "ISU 2026 CORE WORK PLAN"
    assert (detail.reference, detail.reference_type, detail.reference_valid) == ("RF54ISU2026CWP", "SCOR", True)
    assert detail.charges == Decimal("200.00") and detail.charges_info is None
    assert detail.instructed.amount - detail.charges == detail.amount


def test_own_credit_reversal_keeps_its_sign():
    entry = _own("own-camt053-v08-features.xml").statements[0].entries[1]
    assert entry.reversal and entry.amount == Decimal("5000.00")
    assert entry.details[0].return_reason == "AC04"


def test_own_batch_with_fx_details_and_qrr():
    result = _own("own-camt053-v08-features.xml")
    batch = result.statements[0].entries[2]
    assert batch.batch_count == 2 and sum(d.amount for d in batch.details) == batch.amount
    eur, usd = batch.details
    assert (eur.instructed.currency, eur.rate, eur.rate_unit, eur.rate_source) == ("EUR", Decimal("0.94"), "EUR", "EUR")
    assert (usd.instructed.amount, usd.rate) == (Decimal("27000.00"), Decimal("0.9259"))
    assert eur.payer_address == "WERDERSCHER MARKT 1, 10117 BERLIN"
    assert (eur.reference_valid, usd.reference_valid) == (True, False)
    assert result.warnings == [
        "statement OWN-STMT-CHF entry 3 detail 2: reference 210000000003139471430009018 fails the mod-10 recursive check"
    ]
    assert batch.booked.isoformat() == "2026-03-15"  # 2026-03-15+01:00


def test_own_pending_and_charge_entry():
    entries = _own("own-camt053-v08-features.xml").statements[0].entries
    assert entries[3].text == "ACCOUNT MAINTENANCE Q1" and entries[3].details == []
    assert entries[3].bank_code == "ACMT/MDOP/CHRG"
    assert entries[4].status == "PDNG" and not entries[4].is_booked


def test_own_054_v08_notification(assert_golden):
    result = _own("own-camt054-v08.xml")
    (stmt,) = result.statements
    assert result.format == "camt.054.001.08" and stmt.kind == "notification"
    assert stmt.opening is None and stmt.balance_ok is None and stmt.currency == "CHF"
    detail = stmt.entries[0].details[0]
    assert detail.ultimate_payer.startswith("BUNDESMINISTERIUM") and detail.ultimate_payer_country == "AT"
    assert_golden("parse/own-camt054-v08", to_json(result))


def test_own_052_v08_report_is_flagged():
    result = _own("own-camt052-v08.xml")
    assert result.statements[0].kind == "report"
    assert result.statements[0].opening is None  # ITBD is not an opening balance
    assert any("intraday" in w for w in result.warnings)


def test_own_053_v03_plain_status_and_negative_opening(assert_golden):
    result = _own("own-camt053-v03.xml")
    stmt = result.statements[0]
    assert stmt.opening.amount == Decimal("-300.00") and stmt.balance_ok
    assert stmt.entries[1].amount == Decimal("-0.9")
    assert stmt.entries[0].details[0].payer == "MISSION PERMANENTE DU LUXEMBOURG"
    assert_golden("parse/own-camt053-v03", to_json(result))


# --- schema validation of the samples meant to be conformant ------------------
def _schema_cases():
    cases = [(DATA / n) for n in ("own-camt053-v08-features.xml", "own-camt054-v08.xml",
                                  "own-camt052-v08.xml", "own-camt053-v03.xml")]
    if YEAR.is_dir():
        cases += sorted(YEAR.glob("ubs-isu-*.camt053.xml"))
    if REAL.is_dir():
        # Known not schema-valid: 06 masks its IBAN, 07 redacts its BIC ("BANK BIC"),
        # 15 is non-conformant on purpose (and refused by the parser).
        cases += [p for p in sorted(REAL.glob("*.xml")) if not p.name.startswith(("06_", "07_", "15_"))]
    return cases


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/schemas missing")
@pytest.mark.parametrize("path", _schema_cases(), ids=lambda p: p.name)
def test_samples_are_schema_valid(path):
    version = parse_file(path).format
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / f"{version}.xsd")))
    doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    assert schema.validate(doc), str(schema.error_log.last_error)
