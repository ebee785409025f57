"""Hostile and broken input: every refusal is a one-line BadFile naming the problem."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from importers.parse import detect, parse_bytes, parse_file
from importers.model import BadFile

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
BAD = SHARED / "samples" / "year2025" / "bad"
DATA = Path(__file__).resolve().parents[2] / "data" / "statements"

GOOD_HEAD = b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'


@pytest.mark.skipif(not BAD.is_dir(), reason="../shared samples missing")
@pytest.mark.parametrize(
    "name, problem",
    [
        ("billion-laughs.camt053.xml", "DOCTYPE is not allowed"),
        ("xxe.camt053.xml", "DOCTYPE is not allowed"),
        ("empty.mt940", "empty file"),
        ("not-a-statement.camt053.xml", "not a bank statement: root element <html>"),
        ("truncated.camt053.xml", "not well-formed XML at line 10"),
    ],
)
def test_shared_bad_files(name, problem):
    started = time.monotonic()
    with pytest.raises(BadFile) as info:
        parse_file(BAD / name)
    assert problem in str(info.value)
    assert "\n" not in str(info.value)
    assert time.monotonic() - started < 5  # no entity expansion happened


@pytest.mark.skipif(not BAD.is_dir(), reason="../shared samples missing")
def test_other_account_parses_the_import_refuses_it():
    """Parsing is pure: the account check belongs to the import (DESIGN.md 7)."""
    result = parse_file(BAD / "other-account.camt053.xml")
    assert result.statements[0].account == "CH9300762011623852957"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty file"),
        (b"  \n\t", "empty file"),
        (b"\x00\x01\x02garbage\xff" * 10, "binary data"),
        (b"hello world", "unknown file format"),
        (b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://evil/x.dtd"><Document/>', "DOCTYPE"),
        (b'<!-- c --><!DOCTYPE x [<!ENTITY a "b">]><Document>&a;</Document>', "DOCTYPE"),
        (b"<Foo/>", "not a bank statement: root element <Foo>"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.99"/>', "unknown camt version camt.053.001.99"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>', "not a bank statement"),
        (GOOD_HEAD + b"<BkToCstmrStmt><GrpHdr>", "not well-formed XML"),
        (GOOD_HEAD + b"<BkToCstmrAcctRpt/></Document>", "expected <BkToCstmrStmt>"),
        (GOOD_HEAD + b"<BkToCstmrStmt/></Document>", "without any <Stmt>"),
        (b":20:X\n:25:CH4500240240FP1006276\n:28C:1/1\n:60F:C250101CHF1,00\n:61:2501010101C1,00NTRF//R\n:86:x\n", "truncated MT940"),
        (b":20:X\n:25:1\n:28C:1/1\n:60F:C250101CHF1,00\n:61:garbage\n:62F:C250101CHF1,00\n-", "MT940 statement 1"),
        (b"Trade date;Trade time;Booking date\n", "unknown UBS CSV header"),
    ],
)
def test_refusals(data, problem):
    with pytest.raises(BadFile) as info:
        parse_bytes("upload.bin", data)
    assert problem in info.value.problem
    assert str(info.value).startswith("upload.bin: ")


def _camt(entry: str, balance_ind: str = "<CdtDbtInd>CRDT</CdtDbtInd>") -> bytes:
    return (
        GOOD_HEAD
        + b"<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2025-01-01T00:00:00</CreDtTm></GrpHdr>"
        + b"<Stmt><Id>STMT-1</Id><Acct><Id><IBAN>CH4500240240FP1006276</IBAN></Id></Acct>"
        + b'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">1.00</Amt>'
        + balance_ind.encode()
        + b"<Dt><Dt>2025-01-01</Dt></Dt></Bal>"
        + entry.encode()
        + b"</Stmt></BkToCstmrStmt></Document>"
    )


OK_ENTRY = '<Ntry><Amt Ccy="CHF">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2025-01-02</Dt></BookgDt></Ntry>'


@pytest.mark.parametrize(
    "entry, problem",
    [
        (OK_ENTRY.replace("<CdtDbtInd>CRDT</CdtDbtInd>", ""), "statement STMT-1 entry 2 has no CdtDbtInd"),
        (OK_ENTRY.replace("<Sts><Cd>BOOK</Cd></Sts>", ""), "statement STMT-1 entry 2 has no Sts"),
        (OK_ENTRY.replace("<BookgDt><Dt>2025-01-02</Dt></BookgDt>", ""), "statement STMT-1 entry 2 is booked but has neither BookgDt nor ValDt"),
        (OK_ENTRY.replace("1.00", "1,00"), "statement STMT-1 entry 2 Amt '1,00' is not a number"),
        (OK_ENTRY.replace("2025-01-02", "2025-13-45"), "statement STMT-1 entry 2 BookgDt '2025-13-45' is not a date"),
        (OK_ENTRY.replace("CRDT", "XXXX"), "unknown CdtDbtInd 'XXXX'"),
    ],
)
def test_nonconformant_entries(entry, problem):
    with pytest.raises(BadFile) as info:
        parse_bytes("x.xml", _camt(OK_ENTRY + entry))
    assert problem in info.value.problem


def test_balance_without_sign_is_refused():
    with pytest.raises(BadFile, match="statement STMT-1 balance OPBD has no CdtDbtInd"):
        parse_bytes("x.xml", _camt(OK_ENTRY, balance_ind=""))


def test_pending_entry_needs_no_booking_date():
    entry = OK_ENTRY.replace("<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>").replace("<BookgDt><Dt>2025-01-02</Dt></BookgDt>", "")
    result = parse_bytes("x.xml", _camt(entry))
    assert result.statements[0].entries[0].booked is None


def test_size_cap(tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<" + b" " * 2048)
    with pytest.raises(BadFile, match="file too large"):
        parse_file(big, max_bytes=1024)
    with pytest.raises(BadFile, match="cannot read file"):
        parse_file(tmp_path / "missing.xml")


def test_detect():
    assert detect(DATA / "own-camt053-v08-features.xml", (DATA / "own-camt053-v08-features.xml").read_bytes()) == "camt.053.001.08"
    assert detect(Path("a.sta"), (DATA / "own-two-statements-multipage.mt940").read_bytes()) == "mt940"
    assert detect(Path("a.csv"), (DATA / "own-ubs-de.csv").read_bytes()) == "ubs-csv"
    with pytest.raises(BadFile, match="unknown file format"):
        detect(Path("a.txt"), b"just text")


@pytest.mark.skipif(not BAD.is_dir(), reason="../shared samples missing")
def test_injection_text_kept_verbatim():
    path = SHARED / "samples" / "year2025" / "tricky" / "injection-in-text.camt053.xml"
    result = parse_file(path)
    from lxml import etree

    raw = etree.parse(str(path)).getroot()
    ustrd = [u.text.strip() for u in raw.iter("{*}Ustrd")]
    parsed = [d.remittance for s in result.statements for e in s.entries for d in e.details]
    assert parsed == ustrd
    assert any('"' in text or "\n" in text for text in parsed)
