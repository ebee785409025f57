"""The one builder of camt.053 statements for tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ISU_IBAN = "CH4500240240FP1006276"
GICHD_IBAN = "CH1000240240FP1000010"
# Payers as banks name them (entry fields ``name`` and ``iban``).
GERMANY = {"name": "FEDERAL FOREIGN OFFICE", "iban": "DE02120300000000202051"}
NORWAY = {"name": "UTENRIKSDEPARTEMENTET", "iban": "NO9386011117947"}


def _entry(number: int, e: dict) -> str:
    amount = Decimal(str(e["amount"]))
    credit = amount > 0
    text = f"{abs(amount):.2f}"
    ind = "CRDT" if credit else "DBIT"
    day = str(e["date"])
    ref = e["ref"]
    amount_details = ""
    if e.get("instructed"):
        inst, ccy, rate = e["instructed"]
        amount_details = (
            f'<AmtDtls><InstdAmt><Amt Ccy="{ccy}">{inst}</Amt></InstdAmt><TxAmt><Amt Ccy="CHF">{text}</Amt>'
            f"<CcyXchg><SrcCcy>{ccy}</SrcCcy><TrgtCcy>CHF</TrgtCcy><UnitCcy>{ccy}</UnitCcy><XchgRate>{rate}</XchgRate>"
            f"</CcyXchg></TxAmt></AmtDtls>"
        )
    party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    family = "RCDT" if credit else "ICDT"
    iban = f"<{account}><Id><IBAN>{e['iban']}</IBAN></Id></{account}>" if e.get("iban") else ""
    return (
        f'<Ntry><NtryRef>{number}</NtryRef><Amt Ccy="CHF">{text}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f'<Amt Ccy="CHF">{text}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{amount_details}'
        f"<RltdPties><{party}><Pty><Nm>{escape(e['name'])}</Nm></Pty></{party}>{iban}</RltdPties>"
        f"<RmtInf><Ustrd>{escape(e['text'])}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def camt053(entries: list[dict], *, opening: tuple, ident: str = "T1", closing: tuple | None = None,
            iban: str = ISU_IBAN) -> str:
    """A valid camt.053.001.08 statement of the ISU account.

    ``opening`` is (date, amount); each entry a dict of ``date``, ``amount``
    (signed: credits positive), ``ref``, ``name`` (the payer or payee),
    ``text`` (remittance), and optionally ``iban`` (the other party's account)
    and ``instructed`` (amount, currency, rate). The closing balance is the
    opening plus the entries, dated on the last entry, unless ``closing``
    (date, amount) says otherwise.
    """
    open_day, open_amount = str(opening[0]), Decimal(str(opening[1]))
    if closing is None:
        days = [str(e["date"]) for e in entries] or [open_day]
        closing = (max(days), open_amount + sum(Decimal(str(e["amount"])) for e in entries))
    close_day, close_amount = str(closing[0]), Decimal(str(closing[1]))
    body = "".join(_entry(n, e) for n, e in enumerate(entries, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>M-{ident}</MsgId><CreDtTm>{close_day}T23:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{ident}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{close_day}T23:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>CHF</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{open_amount:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{open_day}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{close_amount:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{close_day}</Dt></Dt></Bal>"
        f"{body}</Stmt></BkToCstmrStmt></Document>\n"
    )


def write_camt053(path: Path, entries: list[dict], *, opening: tuple, ident: str = "T1") -> Path:
    """:func:`camt053` written to ``path``."""
    path.write_text(camt053(entries, opening=opening, ident=ident), encoding="utf-8")
    return path

