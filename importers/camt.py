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

How it reads the tree, and why. A year of a busy account is tens of thousands
of entries, and lxml's ``find`` with a path re-enters its ElementPath engine
on every call (some 50 per entry). Instead each element the parser looks into
is read once: :func:`_group` walks its children a single time and files them
by Clark-notation tag (``{namespace}Amt``, built once per namespace), and
every lookup is then a dictionary access. Groups are taken over *lists* of
parents, so a path such as ``Sts/Cd`` means exactly what ``find`` meant: the
first ``Cd`` of any ``Sts``, in document order, even when an element a schema
allows once is repeated.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from importers import references
from importers.model import (
    BadFile,
    Balance,
    Detail,
    Entry,
    Money,
    ParseResult,
    Statement,
)
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
# Date text -> date: a statement repeats the same few hundred booking and
# value dates, so each is read once (bounded; dates are immutable).
_DAYS: dict[str, datetime.date] = {}
_DAYS_MAX = 4096
_CREDIT = Decimal(1)
_DEBIT = Decimal(-1)
_ZERO = Decimal(0)
_TRUE = ("true", "1")

# Every element name the parser reads (local names of the camt schemas).
_LOCAL_NAMES = (
    "Acct", "AcctSvcrRef", "AddtlNtryInf", "AddtlTxInf", "AdrLine", "Amt", "AmtDtls", "BIC", "BICFI",
    "Bal", "BkTxCd", "BldgNb", "BookgDt", "Btch", "Ccy", "CcyXchg", "Cd", "CdOrPrtry", "CdtDbtInd",
    "Cdtr", "CdtrAcct", "CdtrAgt", "CdtrRefInf", "ChrgInclInd", "Chrgs", "CntrValAmt", "CpyDplctInd",
    "CreDtTm", "Ctry", "Dbtr", "DbtrAcct", "DbtrAgt", "Domn", "Dt", "DtTm", "ElctrncSeqNb",
    "EndToEndId", "FinInstnId", "Fmly", "FrDtTm", "FrToDt", "IBAN", "Id", "InstdAmt", "LglSeqNb",
    "Nm", "NbOfTxs", "Ntry", "NtryDtls", "NtryRef", "Othr", "PstCd", "PstlAdr", "Prtry", "Pty",
    "Rcrd", "Ref", "Refs", "RltdAgts", "RltdPties", "RmtInf", "Rsn", "RtrInf", "RvslInd", "SrcCcy",
    "StrtNm", "Strd", "Sts", "SubFmlyCd", "ToDtTm", "Tp", "TrgtCcy", "TwnNm", "TxAmt", "TxDtls",
    "UltmtCdtr", "UltmtDbtr", "UnitCcy", "Ustrd", "ValDt", "XchgRate",
)  # fmt: skip


class _Tags:
    """The Clark-notation tags ``{namespace}Local`` of one camt namespace."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        for name in _LOCAL_NAMES:
            setattr(self, name, f"{{{namespace}}}{name}")
        # (party, ultimate party, account, agent) for credits and for debits
        self.credit_roles = (self.Dbtr, self.UltmtDbtr, self.DbtrAcct, self.DbtrAgt)
        self.debit_roles = (self.Cdtr, self.UltmtCdtr, self.CdtrAcct, self.CdtrAgt)

    def of(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"


@functools.lru_cache(maxsize=32)
def _tags(namespace: str) -> _Tags:
    return _Tags(namespace)


# --- reading the tree --------------------------------------------------------


def _group(parents) -> dict:
    """The children of every element in ``parents`` filed by tag, in document order."""
    kids: dict = {}
    for parent in parents:
        for child in parent:
            tag = child.tag
            found = kids.get(tag)
            if found is None:
                kids[tag] = [child]
            else:
                found.append(child)
    return kids


_EMPTY: dict = {}  # the children of nothing; never written to
_REPEATS = "*"  # key of the lists of repeated tags (no element is named "*")


def _kids(el) -> dict:
    """Tag -> first child of ``el``; when a tag repeats, ``"*"`` -> {tag: all of them}."""
    if el is None:
        return _EMPTY
    kids = {}
    for child in el:
        tag = child.tag
        if tag in kids:
            return _repeated((el,))
        kids[tag] = child
    return kids


def _repeated(nodes) -> dict:
    group = _group(nodes)
    kids = {tag: found[0] for tag, found in group.items()}
    kids[_REPEATS] = group
    return kids


def _kids_of(nodes) -> dict:
    """The children of all ``nodes`` in document order, filed as :func:`_kids` does."""
    if len(nodes) == 1:
        return _kids(nodes[0])
    if not nodes:
        return _EMPTY
    return _repeated(nodes)


def _every(kids: dict, tag: str):
    """All children with ``tag`` (``findall(tag)``)."""
    group = kids.get(_REPEATS)
    if group is not None:
        return group.get(tag, ())
    first = kids.get(tag)
    return () if first is None else (first,)


def _sub(kids: dict, tag: str) -> dict:
    """The children of all children with ``tag``: ``_sub(k, "Sts").get("Cd")`` is ``find("Sts/Cd")``."""
    if _REPEATS in kids:
        return _kids_of(kids[_REPEATS].get(tag, ()))
    node = kids.get(tag)
    return _EMPTY if node is None else _kids(node)


def _text(node) -> str | None:
    """The element's text, trimmed; None when absent or blank."""
    if node is None:
        return None
    value = node.text
    if value is None:
        return None
    value = value.strip()
    return value or None


def _clean_text(text: str | None) -> str:
    """Trim a bank text; interior content (quotes, newlines) is kept verbatim."""
    return (text or "").strip()


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


def parse_camt(path: str, root: etree._Element) -> ParseResult:
    """Turn a parsed camt document into a ParseResult (pure, no I/O)."""
    version = detect_version(path, root)
    message = version[:8]
    root_name, stmt_name, kind = _MESSAGES[message]
    tags = _tags(etree.QName(root).namespace)
    parser = _CamtParser(path, tags, version)
    body = _kids(root).get(tags.of(root_name))
    if body is None:
        first = next(iter(root), None)
        found = etree.QName(first).localname if first is not None else "nothing"
        raise BadFile(path, f"not a {message} message: expected <{root_name}>, found <{found}>")
    result = ParseResult(path=path, format=version)
    stmts = _every(_kids(body), tags.of(stmt_name))
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
    def __init__(self, path: str, tags: _Tags, version: str):
        self.path = path
        self.t = tags
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

    def money(self, node, what: str) -> Money | None:
        """Amount and ``Ccy`` of an ``Amt``-like element; None when there is none."""
        if node is None:
            return None
        return Money(self.amount(node, what), (node.get("Ccy") or "").strip())

    def date(self, holder, what: str) -> datetime.date | None:
        """``Dt`` or ``DtTm`` under ``holder``; the calendar date as written."""
        if holder is None:
            return None
        kids = _kids(holder)
        text = _text(kids.get(self.t.Dt)) or _text(kids.get(self.t.DtTm))
        if text is None:
            # FrDtTm-style elements carry the value themselves.
            text = (holder.text or "").strip() or None
        if text is None:
            return None
        day = _DAYS.get(text)
        if day is not None:
            return day
        match = _DATE.match(text)
        try:
            if not match:
                raise ValueError(text)
            day = datetime.date.fromisoformat(match.group(1))
        except ValueError:
            self.fail(f"{what} {text!r} is not a date")
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        _DAYS[text] = day
        return day

    def datetime(self, text: str | None) -> datetime.datetime | None:
        if text is None:
            return None
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"creation time {text!r} is not a date-time")

    def sign(self, indicator: str | None, what: str) -> Decimal:
        """+1 for CRDT, -1 for DBIT; anything else refuses the file."""
        if indicator == "CRDT":
            return _CREDIT
        if indicator == "DBIT":
            return _DEBIT
        prefix = f"{what} " if what else ""
        if indicator is None:
            self.fail(f"{prefix}has no CdtDbtInd")
        self.fail(f"{prefix}has an unknown CdtDbtInd {indicator!r}")

    # --- statement ------------------------------------------------------------
    def statement(self, el, number: int, kind: str) -> Statement:
        t = self.t
        kids = _kids(el)
        stmt_id = _text(kids.get(t.Id))
        self._where = f"statement {stmt_id or number} "
        acct = _kids(kids.get(t.Acct))
        acct_id = _sub(acct, t.Id)
        stmt = Statement(
            id=stmt_id,
            account=_text(acct_id.get(t.IBAN)) or _text(_sub(acct_id, t.Othr).get(t.Id)),
            currency=_text(acct.get(t.Ccy)),
            kind=kind,
            sequence=_text(kids.get(t.ElctrncSeqNb)) or _text(kids.get(t.LglSeqNb)),
            copy=_text(kids.get(t.CpyDplctInd)),
            created=self.datetime(_text(kids.get(t.CreDtTm))),
        )
        period = kids.get(t.FrToDt)
        if period is not None:
            period_kids = _kids(period)
            stmt.period = (
                self.date(period_kids.get(t.FrDtTm), "FrDtTm"),
                self.date(period_kids.get(t.ToDtTm), "ToDtTm"),
            )
        for bal in _every(kids, t.Bal):
            bal_kids = _kids(bal)
            code_kids = _sub(_sub(bal_kids, t.Tp), t.CdOrPrtry)
            code = _text(code_kids.get(t.Cd)) or _text(code_kids.get(t.Prtry))
            what = f"balance {code or '?'}"
            sign = self.sign(_text(bal_kids.get(t.CdtDbtInd)), what)
            money = self.money(bal_kids.get(t.Amt), f"{what} amount")
            if money is None:
                self.fail(f"{what} has no Amt")
            day = self.date(bal_kids.get(t.Dt), f"{what} date")
            if code not in ("OPBD", "CLBD"):
                continue
            if day is None:
                self.fail(f"{what} has no date")
            balance = Balance(day, sign * money.amount, money.currency)
            if code == "OPBD" and stmt.opening is None:
                stmt.opening = balance
            elif code == "CLBD" and stmt.closing is None:
                stmt.closing = balance
        where = f"statement {stmt_id or number} "
        for index, ntry in enumerate(_every(kids, t.Ntry), 1):
            stmt.entries.append(self.entry(ntry, f"{where}entry {index} "))
            self._where = where
        if stmt.currency is None:
            first = stmt.opening or stmt.closing or (stmt.entries[0] if stmt.entries else None)
            stmt.currency = first.currency if first is not None else None
        self.warnings.extend(balance_warnings([stmt]))
        return stmt

    # --- entry ------------------------------------------------------------------
    def entry(self, ntry, where: str) -> Entry:
        t = self.t
        self._where = where
        kids = _kids(ntry)
        sign = self.sign(_text(kids.get(t.CdtDbtInd)), "")
        money = self.money(kids.get(t.Amt), "Amt")
        if money is None:
            self.fail("has no Amt")
        status_kids = _sub(kids, t.Sts)
        status = _text(status_kids.get(t.Cd)) or _text(status_kids.get(t.Prtry)) or _text(kids.get(t.Sts))
        if status is None:
            self.fail("has no Sts")
        booked = self.date(kids.get(t.BookgDt), "BookgDt")
        if booked is None and status == "BOOK":
            self.fail("has no BookgDt")
        reversal = (_text(kids.get(t.RvslInd)) or "").lower() in _TRUE
        details_kids = _sub(kids, t.NtryDtls)
        batch = _text(_sub(details_kids, t.Btch).get(t.NbOfTxs))
        try:
            batch_count = int(batch) if batch is not None else None
        except ValueError:
            self.fail(f"has a non-numeric Btch/NbOfTxs {batch!r}")
        entry = Entry(
            amount=sign * money.amount,
            currency=money.currency,
            booked=booked,
            value=self.date(kids.get(t.ValDt), "ValDt"),
            status=status,
            reversal=reversal,
            ref=_text(kids.get(t.AcctSvcrRef)),
            entry_ref=_text(kids.get(t.NtryRef)),
            text=_clean_text(_text(kids.get(t.AddtlNtryInf))),
            bank_code=self.bank_code(_sub(kids, t.BkTxCd)),
            batch_count=batch_count,
        )
        details = entry.details
        for number, tx in enumerate(_every(details_kids, t.TxDtls), 1):
            details.append(self.detail(tx, sign, f"{where}detail {number}"))
        deducted, _info = self.charges(_every(kids, t.Chrgs))
        details_deducted = [d.charges for d in details if d.charges is not None]
        details_info = [d.charges_info for d in details if d.charges_info is not None]
        repeats = (details_deducted or details_info) and (deducted or None) == (
            sum(details_deducted, _ZERO) or None
        )
        entry.charges = None if repeats else deducted
        return entry

    def bank_code(self, codes: dict) -> str | None:
        """``Domn/Cd``/``Fmly/Cd``/``SubFmlyCd`` from the children of ``BkTxCd``, else ``Prtry/Cd``."""
        if not codes:
            return None
        t = self.t
        domain_kids = _sub(codes, t.Domn)
        domain = _text(domain_kids.get(t.Cd))
        if domain:
            family = _sub(domain_kids, t.Fmly)
            parts = [domain, _text(family.get(t.Cd)), _text(family.get(t.SubFmlyCd))]
            return "/".join(p for p in parts if p)
        return _text(_sub(codes, t.Prtry).get(t.Cd))

    def charges(self, chrgs) -> tuple[Decimal | None, Decimal | None]:
        """(deducted, informational) charges of ``Chrgs`` elements."""
        if not chrgs:
            return None, None
        t = self.t
        records = _every(_kids_of(chrgs), t.Rcrd) or chrgs
        deducted: Decimal | None = None
        info: Decimal | None = None
        for rec in records:
            rec_kids = _kids(rec)
            node = rec_kids.get(t.Amt)
            if node is None:
                continue
            value = self.amount(node, "charge amount")
            if _text(rec_kids.get(t.CdtDbtInd)) == "CRDT":
                value = -value  # a refunded charge
            included = (_text(rec_kids.get(t.ChrgInclInd)) or "true").lower() in _TRUE
            if included:
                deducted = (deducted or _ZERO) + value
            else:
                info = (info or _ZERO) + value
        return deducted, info

    # --- transaction details -------------------------------------------------------
    def detail(self, tx, sign: Decimal, where: str) -> Detail:
        t = self.t
        kids = _kids(tx)
        amount_kids = _sub(kids, t.AmtDtls)
        money = self.money(kids.get(t.Amt), "detail Amt") or self.money(
            _sub(amount_kids, t.TxAmt).get(t.Amt), "detail TxAmt"
        )
        party, ultimate, acct, agent = t.credit_roles if sign > 0 else t.debit_roles
        parties = _kids(kids.get(t.RltdPties))
        who = self._party(parties.get(party))
        ult = self._party(parties.get(ultimate))
        account = _sub(_sub(parties, acct), t.Id)
        agents = _sub(_sub(_sub(kids, t.RltdAgts), agent), t.FinInstnId)
        remittance = _sub(kids, t.RmtInf)
        refs = _sub(kids, t.Refs)
        reasons = _sub(_sub(kids, t.RtrInf), t.Rsn)
        detail = Detail(
            amount=sign * money.amount if money else None,
            currency=money.currency if money else None,
            payer=who[0],
            payer_account=_text(account.get(t.IBAN)) or _text(_sub(account, t.Othr).get(t.Id)),
            payer_country=who[1],
            payer_address=who[2],
            ultimate_payer=ult[0],
            ultimate_payer_country=ult[1],
            counterparty_bic=_text(agents.get(t.BICFI)) or _text(agents.get(t.BIC)),
            remittance=" ".join(
                line for line in (_clean_text(n.text) for n in _every(remittance, t.Ustrd)) if line
            ),
            end_to_end_id=_text(refs.get(t.EndToEndId)),
            detail_ref=_text(refs.get(t.AcctSvcrRef)),
            return_reason=_text(reasons.get(t.Cd)) or _text(reasons.get(t.Prtry)),
            bank_code=self.bank_code(_sub(kids, t.BkTxCd)),
            text=_clean_text(_text(kids.get(t.AddtlTxInf))),
        )
        if t.Strd in remittance:
            self._reference(remittance, detail, where)
        if amount_kids:
            self._fx(amount_kids, detail)
        detail.charges, detail.charges_info = self.charges(_every(kids, t.Chrgs))
        return detail

    def _party(self, el) -> tuple[str | None, str | None, str | None]:
        """(name, country, address) of ``Dbtr``-like element, .001.02-.08 shapes."""
        if el is None:
            return None, None, None
        t = self.t
        kids = _kids(el)
        pty = kids.get(t.Pty)
        if pty is not None:
            kids = _kids(pty)
        name = _text(kids.get(t.Nm))
        adr = kids.get(t.PstlAdr)
        if adr is None:
            return name, None, None
        address = _kids(adr)
        lines = [_clean_text(n.text) for n in _every(address, t.AdrLine)]
        if not any(lines):
            street = " ".join(p for p in (_text(address.get(t.StrtNm)), _text(address.get(t.BldgNb))) if p)
            town = " ".join(p for p in (_text(address.get(t.PstCd)), _text(address.get(t.TwnNm))) if p)
            lines = [street, town]
        return name, _text(address.get(t.Ctry)), ", ".join(line for line in lines if line) or None

    def _reference(self, remittance: dict, detail: Detail, where: str) -> None:
        t = self.t
        for info in _every(_sub(remittance, t.Strd), t.CdtrRefInf):
            info_kids = _kids(info)
            ref = _text(info_kids.get(t.Ref))
            if not ref:
                continue
            types = _sub(_sub(info_kids, t.Tp), t.CdOrPrtry)
            kind = _text(types.get(t.Cd)) or _text(types.get(t.Prtry))
            detail.reference, detail.reference_type = ref, kind
            detail.reference_valid = references.is_valid(ref, kind)
            if detail.reference_valid is False:
                self.warnings.append(
                    f"{where}: reference {ref} fails the {references.check_name(ref, kind)} check"
                )
            return

    def _fx(self, amount_kids: dict, detail: Detail) -> None:
        t = self.t
        instructed = _sub(amount_kids, t.InstdAmt)
        detail.instructed = self.money(instructed.get(t.Amt), "instructed amount")
        for holder in (_sub(amount_kids, t.TxAmt), instructed, _sub(amount_kids, t.CntrValAmt)):
            xchg = holder.get(t.CcyXchg)
            if xchg is None:
                continue
            rate_kids = _kids(xchg)
            rate = _text(rate_kids.get(t.XchgRate))
            try:
                detail.rate = Decimal(rate) if rate else None
            except InvalidOperation:
                self.fail(f"exchange rate {rate!r} is not a number")
            detail.rate_unit = _text(rate_kids.get(t.UnitCcy))
            detail.rate_source = _text(rate_kids.get(t.SrcCcy))
            detail.rate_target = _text(rate_kids.get(t.TrgtCcy))
            return
