"""The 15 public bank files of shared/real-statements parse as EXPECTED.md says."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from importers.parse import parse_file
from importers.model import BadFile
from importers.parse.serialize import to_json

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
REAL = SHARED / "real-statements"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-statements is missing")
EXPECTED = json.loads((REAL / "expected.json").read_text()) if REAL.is_dir() else {}


def _parse(prefix: str):
    (path,) = REAL.glob(f"{prefix}_*")
    return parse_file(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_numbers(name):
    want = EXPECTED[name]
    if want.get("refused"):
        with pytest.raises(BadFile):
            parse_file(REAL / name)
        return
    result = parse_file(REAL / name)
    booked = [e for s in result.statements for e in s.booked_entries]
    if "statements" in want:
        assert len(result.statements) == want["statements"]
    assert len(booked) == want["booked"]
    if "credits" in want:
        assert sum((e.amount for e in booked if e.amount > 0), Decimal(0)) == Decimal(want["credits"])
        assert -sum((e.amount for e in booked if e.amount < 0), Decimal(0)) == Decimal(want["debits"])
    if "details" in want:
        assert sum(len(e.details) for s in result.statements for e in s.entries) == want["details"]
    if "balance_ok" in want:
        assert all(s.balance_ok is want["balance_ok"] for s in result.statements)
        assert any("do not reconcile" in w for w in result.warnings) is (not want["balance_ok"])
    if "references" in want:
        refs = [d.reference for s in result.statements for e in s.entries for d in e.details]
        assert refs == want["references"]
    if "account" in want:
        assert result.statements[0].account == want["account"]
    if "reversals" in want:
        assert sum(e.reversal for e in booked) == want["reversals"]


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if not EXPECTED[n].get("refused")))
def test_golden(assert_golden, name):
    assert_golden(f"parse/{Path(name).stem}", to_json(parse_file(REAL / name)))


def test_01_batches_references_charges_reversals():
    stmt = _parse("01").statements[0]
    assert (stmt.id, stmt.sequence, stmt.account) == ("20160430375204000008574", "85", "CH0309000000250090342")
    assert stmt.opening.amount == Decimal("322152.16") and stmt.closing.amount == Decimal("322689.77")
    esr = next(e for e in stmt.entries if e.entry_ref == "010000004")
    assert esr.batch_count == 10 and len(esr.details) == 10
    assert sum(d.amount for d in esr.details) == esr.amount == Decimal("1000.00")
    assert all(d.reference_type == "ISR Reference" and d.reference_valid for d in esr.details)
    # Entry-level charges repeat the detail-level ones (ChrgInclInd=false): nothing deducted.
    assert esr.charges is None and all(d.charges is None for d in esr.details)
    assert sum(d.charges_info for d in esr.details if d.charges_info) == Decimal("5.60")
    reversals = [e for e in stmt.entries if e.reversal]
    assert sorted(e.amount for e in reversals) == [Decimal("-15.53"), Decimal("-6.00")]
    returns = [d for e in stmt.entries for d in e.details if d.return_reason == "NARR"]
    assert len(returns) == 3


def test_02_03_version_parity():
    def normalised(prefix):
        data = to_json(_parse(prefix))
        data.pop("format")
        return data

    assert normalised("02") == normalised("03")
    detail = _parse("03").statements[0].entries[0].details[0]
    assert (detail.payer, detail.payer_account) == ("Bernasconi Maria", "CH5109000000250092291")
    assert detail.reference_type == "QRR" and detail.reference_valid is True
    assert detail.end_to_end_id == "1006265-aic5dL-75dzf3jk9-cf2d5e9"
    assert detail.remittance == ""  # AddtlRmtInf (?REJECT?0) is not remittance text


def test_04_return_is_a_credit_reversal():
    entry = _parse("04").statements[0].entries[0]
    assert entry.amount == Decimal("500.00") and entry.reversal
    assert entry.details[0].return_reason == "AC01"


def test_05_untyped_reference_fails_but_is_kept():
    result = _parse("05")
    debit = result.statements[0].entries[1]
    assert debit.details[0].reference == "100041698214115449371805270"
    assert debit.details[0].reference_valid is False
    assert debit.details[0].charges_info == Decimal("4.40") and debit.charges is None
    assert any("100041698214115449371805270" in w for w in result.warnings)


def test_06_zone_offset_dates_and_free_scale():
    stmt = _parse("06").statements[0]
    assert stmt.opening.date.isoformat() == "2017-04-01"  # written 2017-04-01+02:00
    assert stmt.entries[0].booked.isoformat() == "2017-04-01"
    assert all(e.booked is not None and not e.details for e in stmt.entries)
    assert any(e.amount == Decimal("-905.3") for e in stmt.entries)
    assert all(e.text for e in stmt.entries)


def test_07_othr_account_and_pty_name():
    detail = _parse("07").statements[0].entries[0].details[0]
    assert (detail.payer, detail.remittance) == ("PAYEE", "PAYMENT INFO")


def test_08_report_pending_fx():
    result = _parse("08")
    assert result.statements[0].kind == "report"
    entry = result.statements[0].entries[0]
    assert entry.status == "PDNG" and not entry.is_booked and entry.currency == "SEK"
    detail = entry.details[0]
    assert detail.instructed.amount == Decimal("4.10") and detail.instructed.currency == "USD"
    assert detail.rate == Decimal("0.9253030601")
    assert any("camt.052" in w for w in result.warnings)


def test_09_fx_not_recomputed_and_deducted_charges():
    stmt = _parse("09").statements[0]
    fx = next(d for e in stmt.entries for d in e.details if d.instructed and d.instructed.currency == "USD")
    assert fx.amount == Decimal("2120.00") and fx.instructed.amount == Decimal("3200.00")
    assert fx.rate == Decimal("0.666667") and fx.rate_unit == "EUR"
    net = next(d for e in stmt.entries for d in e.details if d.reference == "RF98123456789012")
    assert net.amount == Decimal("5455.00") and net.charges == Decimal("45.00")
    assert net.reference_valid is False
    same_ref = [d for e in stmt.entries for d in e.details if d.detail_ref == "091029ARCH09001"]
    assert len(same_ref) == 2


def test_10_info_reversal_not_booked_and_trimmed_scor():
    stmt = _parse("10").statements[0]
    info = next(e for e in stmt.entries if e.status == "INFO")
    assert info.reversal and info.amount == Decimal("100.00") and not info.is_booked
    assert "RF7812345" in [d.reference for e in stmt.entries for d in e.details]


def test_12_reversed_batch_stays_a_debit():
    stmt = _parse("12").statements[0]
    rev = next(e for e in stmt.entries if e.reversal)
    assert rev.amount == Decimal("-664.05")
    assert [d.amount for d in rev.details] == [Decimal("-564.05"), Decimal("-100.00")]


def test_13_mt940_pages_and_wrapped_text():
    result = _parse("13")
    (stmt,) = result.statements
    assert stmt.opening.amount == Decimal("0") and stmt.closing.amount == Decimal("159.6")
    assert stmt.balance_ok is False
    first, _, third, last = stmt.entries
    assert first.details[0].payer == "JANE DOE EXAMPLESTRASSE 10 1234 XXXX"
    assert first.details[0].remittance == "RECHNUNG XXXXXXXXXXXX"
    assert first.ref == "20131209007602198765432000000012"
    assert "XXXXXXXXSTRASSE 111" in third.details[0].payer
    assert third.details[0].remittance == "1 SONNENGLAESER"
    assert last.text == "EINZAHLUNGSSCHEIN"
    assert all(e.status == "BOOK" for e in stmt.entries)


def test_14_dttm_booking_and_foreign_detail_currency():
    stmt = _parse("14").statements[0]
    assert stmt.account == "50000000054910000003"
    batch = next(e for e in stmt.entries if e.amount == Decimal("-200000"))
    assert batch.batch_count == 20 and batch.details == []
    eur = next(d for e in stmt.entries for d in e.details if d.currency == "EUR")
    assert eur.amount == Decimal("3255") and eur.currency != stmt.currency


def test_15_refused_with_statement_named():
    with pytest.raises(BadFile, match="statement MSG78375912-PMKDEH .*CdtDbtInd"):
        _parse("15")
