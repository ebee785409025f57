"""Every file of ../shared/peer-statements (other projects' public fixtures,
many banks and countries): it is either read with the balances, entry counts
and credit/debit sums that an independent reading of the file gives (lxml
XPath over camt, regular expressions over MT940 - not the parser), or
refused in one line for the reason named here."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from importers.model import BadFile
from importers.parse import parse_file

PEER = Path(__file__).resolve().parents[3].parent / "shared" / "peer-statements"
pytestmark = pytest.mark.skipif(not PEER.is_dir(), reason="../shared/peer-statements is missing")

REFUSED = {
    "hbci4java/test-pain-parse-00100103.xml": "not a bank statement: it is a pain.001 payment order",
    "jejik-mt940/K4262927_20200905-080000-952.txt": "without closing balance :62F:",
    "jejik-mt940/oldenburgischelandesbank2.txt": "without closing balance :62F:",
    "jejik-mt940/abnamro.txt": "without closing balance :62F:",
    "svapnil-iso20022js/bank_of_montreal_camt053_v2_1.xml": "is booked but has neither BookgDt nor ValDt",
    "svapnil-iso20022js/bank_of_montreal_camt053_v2_3.xml": "not well-formed XML",
    "svapnil-iso20022js/bank_of_montreal_camt053_v2_5.xml": "is booked but has neither BookgDt nor ValDt",
}
FILES = sorted(str(p.relative_to(PEER)) for p in PEER.rglob("*") if p.is_file() and p.name != "SOURCES.md") \
    if PEER.is_dir() else []


def _local(el) -> str:
    return etree.QName(el).localname


def _camt_truth(path: Path) -> list[dict]:
    """Per statement: entry count, credit and debit sums, opening and closing, read with XPath."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    out = []
    for stmt in root.xpath("//*[local-name()='Stmt' or local-name()='Rpt' or local-name()='Ntfctn']"):
        credits = debits = Decimal(0)
        entries = stmt.xpath("./*[local-name()='Ntry']")
        for ntry in entries:
            amount = Decimal(ntry.xpath("./*[local-name()='Amt']/text()")[0].strip())
            if ntry.xpath("./*[local-name()='CdtDbtInd']/text()")[0].strip() == "CRDT":
                credits += amount
            else:
                debits += amount
        balances = {}
        for bal in stmt.xpath("./*[local-name()='Bal']"):
            code = "".join(bal.xpath(".//*[local-name()='CdOrPrtry']//text()")).strip()
            sign = -1 if bal.xpath("./*[local-name()='CdtDbtInd']/text()")[0].strip() == "DBIT" else 1
            balances.setdefault(code, sign * Decimal(bal.xpath("./*[local-name()='Amt']/text()")[0].strip()))
        opening = balances.get("OPBD", balances.get("PRCD"))
        out.append({"count": len(entries), "credits": credits, "debits": debits, "opening": opening,
                    "closing": balances.get("CLBD")})
    return out


_AMOUNT = r"(\d[\d,]*)"


def _mt940_truth(path: Path) -> dict:
    """For the whole file: :61: count, credit and debit sums, the :60x: and :62x: amounts."""
    text = path.read_bytes().decode("latin-1")
    credits = debits = Decimal(0)
    count = 0
    for mark, amount in re.findall(r"^:61:\d{6}(?:\d{4}|\s{4})?(R?[DC])[A-Z]?\n?" + _AMOUNT, text, re.M):
        value = Decimal(amount.replace(",", ".").rstrip("."))
        count += 1
        if mark in ("C", "RD"):
            credits += value
        else:
            debits += value

    def balances(tag: str) -> set[Decimal]:
        found = re.findall(rf"^:{tag}[FM]:([DC])\d{{6}}[A-Z]{{3}}{_AMOUNT}", text, re.M)
        return {(-1 if s == "D" else 1) * Decimal(a.replace(",", ".").rstrip(".")) for s, a in found}

    return {"count": count, "credits": credits, "debits": debits, "openings": balances("60"), "closings": balances("62")}


def _sums(statement) -> tuple[int, Decimal, Decimal]:
    credits = sum((e.amount for e in statement.entries if e.amount > 0), Decimal(0))
    debits = -sum((e.amount for e in statement.entries if e.amount < 0), Decimal(0))
    return len(statement.entries), credits, debits


@pytest.mark.parametrize("name", FILES)
def test_peer_file(name):
    path = PEER / name
    if name in REFUSED:
        with pytest.raises(BadFile) as refused:
            parse_file(str(path))
        message = str(refused.value)
        assert REFUSED[name] in message and "\n" not in message and "0x" not in message, message
        return
    result = parse_file(str(path))
    if result.format.startswith("camt"):
        truth = _camt_truth(path)
        assert len(result.statements) == len(truth)
        for st, t in zip(result.statements, truth, strict=True):
            assert _sums(st) == (t["count"], t["credits"], t["debits"]), name
            assert (st.opening.amount if st.opening else None) == t["opening"], name
            assert (st.closing.amount if st.closing else None) == t["closing"], name
    else:
        truth = _mt940_truth(path)
        count = sum(len(st.entries) for st in result.statements)
        credits = sum((_sums(st)[1] for st in result.statements), Decimal(0))
        debits = sum((_sums(st)[2] for st in result.statements), Decimal(0))
        assert (count, credits, debits) == (truth["count"], truth["credits"], truth["debits"]), name
        assert {st.opening.amount for st in result.statements} <= truth["openings"], name
        assert {st.closing.amount for st in result.statements} <= truth["closings"], name
