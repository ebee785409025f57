"""ISO 20022 camt.052 / camt.053 / camt.054 (versions .001.02 to .001.08).

One parser for the three messages: the entry (``Ntry``) structure is shared,
only the root differs (``BkToCstmrAcctRpt/Rpt``, ``BkToCstmrStmt/Stmt``,
``BkToCstmrDbtCdtNtfctn/Ntfctn``). The version comes from the namespace.

Rules (see shared/FORMATS.md; every one has broken a parser somewhere):

* The entry sign comes from ``Ntry/CdtDbtInd`` only; ``RvslInd`` never flips it.
* Missing required data (sign, status, booking date of a booked entry, amount,
  balance sign) refuses the file with the statement id and entry number.
  ``BookgDt`` is optional in the schema for pending/info entries, so it is only
  required for BOOK entries. Schema validation is *not* a gate here.
* Dates keep the calendar date as written (``2017-04-01+02:00`` and
  ``2010-10-18T13:15:00+01:00`` both give the written date).
* Detail amount: ``TxDtls/Amt``, else ``AmtDtls/TxAmt/Amt`` (.001.02).
* FX: instructed amount and ``CcyXchg`` are kept as given, never recomputed.
* Charges: ``Chrgs/Rcrd`` (and the .001.02 repeated ``Chrgs``).
  ``ChrgInclInd=false`` is informational (``charges_info``); ``true`` means
  deducted (``charges``). An absent indicator counts as deducted: .001.02
  defines ``Chrgs`` as "charges included in the entry amount", and the FFFS
  sample's net credit (5500.00 instructed - 45.00 = 5455.00) confirms it.
  Entry-level charges that merely repeat the sum of the detail-level ones
  are not kept at entry level, so the total deducted
  (``entry.charges + sum(detail.charges)``) never counts a charge twice.
* Parties: ``Dbtr/Nm`` (<= .001.07) or ``Dbtr/Pty/Nm`` (.001.08); for a
  credit the counterparty is the debtor, for a debit the creditor.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from importers import references
from importers.model import Balance, BadFile, Detail, Entry, Money, ParseResult, Statement
from importers.serialize import balance_warnings

SUPPORTED_VERSIONS = ("02", "03", "04", "05", "06", "07", "08")
_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.(\d{2})$")
# message -> (root element, statement element, Statement.kind)
_MESSAGES = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt", "report"),
    "camt.053": ("BkToCstmrStmt", "Stmt", "statement"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification"),
}
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


def detect_version(path: str, root: etree._Element) -> str:
    """``camt.053.001.08`` from the root namespace, or BadFile."""
    qname = etree.QName(root)
    match = _NAMESPACE.match(qname.namespace or "")
    if qname.localname != "Document" or not (qname.namespace or "").startswith(
        "urn:iso:std:iso:20022:tech:xsd:camt."
    ):
        raise BadFile(path, f"not a bank statement: root element <{qname.localname}>")
    if not match:
        raise BadFile(path, f"unknown camt version {qname.namespace.rsplit(':', 1)[-1]}")
    message, version = match.groups()
    if version not in SUPPORTED_VERSIONS:
        raise BadFile(path, f"unknown camt version {message}.001.{version}")
    return f"{message}.001.{version}"


class _Reader:
    """Namespace-aware lookups: ``find(el, "Acct/Id/IBAN")``."""

    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def _path(self, path: str) -> str:
        return "/".join(f"c:{part}" if part not in (".", "..") else part for part in path.split("/"))

    def find(self, el, path: str):
        return el.find(self._path(path), self.ns) if el is not None else None

    def findall(self, el, path: str) -> list:
        return el.findall(self._path(path), self.ns) if el is not None else []

    def text(self, el, path: str) -> str | None:
        node = self.find(el, path)
        if node is None or node.text is None:
            return None
        value = node.text.strip()
        return value or None


def parse_camt(path: str, root: etree._Element) -> ParseResult:
    """Turn a parsed camt document into a ParseResult (pure, no I/O)."""
    version = detect_version(path, root)
    message = version[:8]
    root_name, stmt_name, kind = _MESSAGES[message]
    parser = _CamtParser(path, _Reader(etree.QName(root).namespace), version)
    body = parser.r.find(root, root_name)
    if body is None:
        first = next(iter(root), None)
        found = etree.QName(first).localname if first is not None else "nothing"
        raise BadFile(path, f"not a {message} message: expected <{root_name}>, found <{found}>")
    result = ParseResult(path=path, format=version)
    stmts = parser.r.findall(body, stmt_name)
    if not stmts:
        raise BadFile(path, f"{message} message without any <{stmt_name}>")
    for number, el in enumerate(stmts, 1):
        result.statements.append(parser.statement(el, number, kind))
    result.warnings.extend(parser.warnings)
    if kind == "report":
        result.warnings.append(
            "camt.052 is an intraday report, not a final statement: nothing in it may be booked"
        )
    return result


class _CamtParser:
    def __init__(self, path: str, reader: _Reader, version: str):
        self.path = path
        self.r = reader
        self.version = version
        self.warnings: list[str] = []
        self._where = ""

    # --- small value readers ------------------------------------------------
    def fail(self, problem: str):
        raise BadFile(self.path, f"{self._where}{problem}")

    def amount(self, node, what: str) -> Decimal:
        if node is None or node.text is None:
            self.fail(f"has no {what}")
        try:
            value = Decimal(node.text.strip())
        except InvalidOperation:
            self.fail(f"{what} {node.text.strip()!r} is not a number")
        if not value.is_finite() or value < 0:
            self.fail(f"{what} {node.text.strip()!r} is not a valid amount")
        return value

    def money(self, el, path: str, what: str) -> Money | None:
        node = self.r.find(el, path)
        if node is None:
            return None
        return Money(self.amount(node, what), (node.get("Ccy") or "").strip())

    def date(self, el, path: str, what: str) -> datetime.date | None:
        """``Dt`` or ``DtTm`` under ``path``; the calendar date as written."""
        holder = self.r.find(el, path)
        if holder is None:
            return None
        text = self.r.text(holder, "Dt") or self.r.text(holder, "DtTm")
        if text is None:
            # FrDtTm-style elements carry the value themselves.
            text = (holder.text or "").strip() or None
        if text is None:
            return None
        match = _DATE.match(text)
        try:
            if not match:
                raise ValueError(text)
            return datetime.date.fromisoformat(match.group(1))
        except ValueError:
            self.fail(f"{what} {text!r} is not a date")

    def datetime(self, el, path: str) -> datetime.datetime | None:
        text = self.r.text(el, path)
        if text is None:
            return None
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"creation time {text!r} is not a date-time")

    def sign(self, el, what: str) -> Decimal:
        indicator = self.r.text(el, "CdtDbtInd")
        if indicator == "CRDT":
            return Decimal(1)
        if indicator == "DBIT":
            return Decimal(-1)
        prefix = f"{what} " if what else ""
        if indicator is None:
            self.fail(f"{prefix}has no CdtDbtInd")
        self.fail(f"{prefix}has an unknown CdtDbtInd {indicator!r}")

    # --- statement ------------------------------------------------------------
    def statement(self, el, number: int, kind: str) -> Statement:
        stmt_id = self.r.text(el, "Id")
        self._where = f"statement {stmt_id or number} "
        acct = self.r.find(el, "Acct")
        account = self.r.text(acct, "Id/IBAN") or self.r.text(acct, "Id/Othr/Id")
        currency = self.r.text(acct, "Ccy")
        stmt = Statement(
            id=stmt_id,
            account=account,
            currency=currency,
            kind=kind,
            sequence=self.r.text(el, "ElctrncSeqNb") or self.r.text(el, "LglSeqNb"),
            copy=self.r.text(el, "CpyDplctInd"),
            created=self.datetime(el, "CreDtTm"),
        )
        period = self.r.find(el, "FrToDt")
        if period is not None:
            stmt.period = (self.date(period, "FrDtTm", "FrDtTm"), self.date(period, "ToDtTm", "ToDtTm"))
        for bal in self.r.findall(el, "Bal"):
            code = self.r.text(bal, "Tp/CdOrPrtry/Cd") or self.r.text(bal, "Tp/CdOrPrtry/Prtry")
            what = f"balance {code or '?'}"
            sign = self.sign(bal, what)
            money = self.money(bal, "Amt", f"{what} amount")
            if money is None:
                self.fail(f"{what} has no Amt")
            day = self.date(bal, "Dt", f"{what} date")
            if code not in ("OPBD", "CLBD"):
                continue
            if day is None:
                self.fail(f"{what} has no date")
            balance = Balance(day, sign * money.amount, money.currency)
            if code == "OPBD" and stmt.opening is None:
                stmt.opening = balance
            elif code == "CLBD" and stmt.closing is None:
                stmt.closing = balance
        for index, ntry in enumerate(self.r.findall(el, "Ntry"), 1):
            stmt.entries.append(self.entry(ntry, f"statement {stmt_id or number} entry {index} "))
            self._where = f"statement {stmt_id or number} "
        if stmt.currency is None:
            first = stmt.opening or stmt.closing or (stmt.entries[0] if stmt.entries else None)
            stmt.currency = first.currency if first is not None else None
        self.warnings.extend(balance_warnings([stmt]))
        return stmt

    # --- entry ------------------------------------------------------------------
    def entry(self, ntry, where: str) -> Entry:
        self._where = where
        sign = self.sign(ntry, "")
        money = self.money(ntry, "Amt", "Amt")
        if money is None:
            self.fail("has no Amt")
        status = self.r.text(ntry, "Sts/Cd") or self.r.text(ntry, "Sts/Prtry") or self.r.text(ntry, "Sts")
        if status is None:
            self.fail("has no Sts")
        booked = self.date(ntry, "BookgDt", "BookgDt")
        if booked is None and status == "BOOK":
            self.fail("has no BookgDt")
        reversal = (self.r.text(ntry, "RvslInd") or "").lower() in ("true", "1")
        batch = self.r.text(ntry, "NtryDtls/Btch/NbOfTxs")
        try:
            batch_count = int(batch) if batch is not None else None
        except ValueError:
            self.fail(f"has a non-numeric Btch/NbOfTxs {batch!r}")
        entry = Entry(
            amount=sign * money.amount,
            currency=money.currency,
            booked=booked,
            value=self.date(ntry, "ValDt", "ValDt"),
            status=status,
            reversal=reversal,
            ref=self.r.text(ntry, "AcctSvcrRef"),
            entry_ref=self.r.text(ntry, "NtryRef"),
            text=_clean_text(self.r.text(ntry, "AddtlNtryInf")),
            bank_code=self.bank_code(ntry),
            batch_count=batch_count,
        )
        for number, tx in enumerate(self.r.findall(ntry, "NtryDtls/TxDtls"), 1):
            entry.details.append(self.detail(tx, sign, where + f"detail {number}"))
        deducted, _info = self.charges(ntry)
        details_deducted = [d.charges for d in entry.details if d.charges is not None]
        details_info = [d.charges_info for d in entry.details if d.charges_info is not None]
        repeats = (details_deducted or details_info) and (deducted or None) == (
            sum(details_deducted, Decimal(0)) or None
        )
        entry.charges = None if repeats else deducted
        return entry

    def bank_code(self, el) -> str | None:
        domain = self.r.text(el, "BkTxCd/Domn/Cd")
        if domain:
            parts = [domain, self.r.text(el, "BkTxCd/Domn/Fmly/Cd"), self.r.text(el, "BkTxCd/Domn/Fmly/SubFmlyCd")]
            return "/".join(p for p in parts if p)
        return self.r.text(el, "BkTxCd/Prtry/Cd")

    def charges(self, el) -> tuple[Decimal | None, Decimal | None]:
        """(deducted, informational) charges under ``el/Chrgs``."""
        records = self.r.findall(el, "Chrgs/Rcrd") or self.r.findall(el, "Chrgs")
        deducted: Decimal | None = None
        info: Decimal | None = None
        for rec in records:
            node = self.r.find(rec, "Amt")
            if node is None:
                continue
            value = self.amount(node, "charge amount")
            if self.r.text(rec, "CdtDbtInd") == "CRDT":
                value = -value  # a refunded charge
            included = (self.r.text(rec, "ChrgInclInd") or "true").lower() in ("true", "1")
            if included:
                deducted = (deducted or Decimal(0)) + value
            else:
                info = (info or Decimal(0)) + value
        return deducted, info

    # --- transaction details -------------------------------------------------------
    def detail(self, tx, sign: Decimal, where: str) -> Detail:
        money = self.money(tx, "Amt", "detail Amt") or self.money(tx, "AmtDtls/TxAmt/Amt", "detail TxAmt")
        credit = sign > 0
        party, ultimate, acct, agent = (
            ("Dbtr", "UltmtDbtr", "DbtrAcct", "DbtrAgt") if credit else ("Cdtr", "UltmtCdtr", "CdtrAcct", "CdtrAgt")
        )
        parties = self.r.find(tx, "RltdPties")
        who = self._party(self.r.find(parties, party))
        ult = self._party(self.r.find(parties, ultimate))
        detail = Detail(
            amount=sign * money.amount if money else None,
            currency=money.currency if money else None,
            payer=who[0],
            payer_account=self.r.text(parties, f"{acct}/Id/IBAN") or self.r.text(parties, f"{acct}/Id/Othr/Id"),
            payer_country=who[1],
            payer_address=who[2],
            ultimate_payer=ult[0],
            ultimate_payer_country=ult[1],
            counterparty_bic=self.r.text(tx, f"RltdAgts/{agent}/FinInstnId/BICFI")
            or self.r.text(tx, f"RltdAgts/{agent}/FinInstnId/BIC"),
            remittance=" ".join(
                line for line in (_clean_text(n.text) for n in self.r.findall(tx, "RmtInf/Ustrd")) if line
            ),
            end_to_end_id=self.r.text(tx, "Refs/EndToEndId"),
            detail_ref=self.r.text(tx, "Refs/AcctSvcrRef"),
            return_reason=self.r.text(tx, "RtrInf/Rsn/Cd") or self.r.text(tx, "RtrInf/Rsn/Prtry"),
            bank_code=self.bank_code(tx),
            text=_clean_text(self.r.text(tx, "AddtlTxInf")),
        )
        self._reference(tx, detail, where)
        self._fx(tx, detail)
        detail.charges, detail.charges_info = self.charges(tx)
        return detail

    def _party(self, el) -> tuple[str | None, str | None, str | None]:
        """(name, country, address) of ``Dbtr``-like element, .001.02-.08 shapes."""
        if el is None:
            return None, None, None
        pty = self.r.find(el, "Pty")
        base = pty if pty is not None else el
        name = self.r.text(base, "Nm")
        adr = self.r.find(base, "PstlAdr")
        country = self.r.text(adr, "Ctry")
        lines = [_clean_text(n.text) for n in self.r.findall(adr, "AdrLine")]
        if not any(lines):
            street = " ".join(p for p in (self.r.text(adr, "StrtNm"), self.r.text(adr, "BldgNb")) if p)
            town = " ".join(p for p in (self.r.text(adr, "PstCd"), self.r.text(adr, "TwnNm")) if p)
            lines = [street, town]
        address = ", ".join(line for line in lines if line) or None
        return name, country, address

    def _reference(self, tx, detail: Detail, where: str) -> None:
        for info in self.r.findall(tx, "RmtInf/Strd/CdtrRefInf"):
            ref = self.r.text(info, "Ref")
            if not ref:
                continue
            kind = self.r.text(info, "Tp/CdOrPrtry/Cd") or self.r.text(info, "Tp/CdOrPrtry/Prtry")
            detail.reference, detail.reference_type = ref, kind
            detail.reference_valid = references.is_valid(ref, kind)
            if detail.reference_valid is False:
                self.warnings.append(
                    f"{where}: reference {ref} fails the {references.check_name(ref, kind)} check"
                )
            return

    def _fx(self, tx, detail: Detail) -> None:
        detail.instructed = self.money(tx, "AmtDtls/InstdAmt/Amt", "instructed amount")
        for path in ("AmtDtls/TxAmt/CcyXchg", "AmtDtls/InstdAmt/CcyXchg", "AmtDtls/CntrValAmt/CcyXchg"):
            xchg = self.r.find(tx, path)
            if xchg is None:
                continue
            rate = self.r.text(xchg, "XchgRate")
            try:
                detail.rate = Decimal(rate) if rate else None
            except InvalidOperation:
                self.fail(f"exchange rate {rate!r} is not a number")
            detail.rate_unit = self.r.text(xchg, "UnitCcy")
            detail.rate_source = self.r.text(xchg, "SrcCcy")
            detail.rate_target = self.r.text(xchg, "TrgtCcy")
            return


def _clean_text(text: str | None) -> str:
    """Trim a bank text; interior content (quotes, newlines) is kept verbatim."""
    return (text or "").strip()
