"""ISO 20022 camt.052 / camt.053 / camt.054 (versions .001.02 to .001.13).

One parser for the three messages: the entry (``Ntry``) structure is shared,
only the root differs (``BkToCstmrAcctRpt/Rpt``, ``BkToCstmrStmt/Stmt``,
``BkToCstmrDbtCdtNtfctn/Ntfctn``). The version comes from the namespace.

Rules (every one has broken a parser somewhere):

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
of entries of some 40 elements each. lxml's ``find`` re-enters its
ElementPath engine on every call; a dictionary of children built for each
element looked into would cost a Python call, an iterator and a dictionary
per group, some 20 per entry, and a second function call per text. What
cannot be avoided is lxml making a proxy and a ``{namespace}Local`` tag
string for each element. So each ``Ntry`` (and each balance, account, period) is read in
one breadth-first pass, :func:`_file`, guided by a *plan*: the paths of
local names the parser reads (``_ENTRY`` below), compiled once per namespace
into Clark-notation tags. The pass files what the plan names under its path
(``"Sts/Cd"``), trims texts once, and never looks into anything else; every
lookup is then one dictionary access. How an element is read is part of the
plan, and the readings mean exactly what ``find`` meant, even when an
element a schema allows once is repeated:

* a leaf (``None``): the text of the first one in document order, trimmed
  (None when absent or blank); ``_NODE`` files that element itself
  (amounts, whose ``Ccy`` and untrimmed text matter);
* ``_ALL``: the children of *all* of them are filed under the path, so
  ``Sts/Cd`` is the first ``Cd`` of any ``Sts``, in document order
  (``find("Sts/Cd")``); the first such element is filed too;
* ``_ONE``: only the first one is looked into, as a group of its own:
  ``RltdPties`` -> ``Dbtr`` -> ``Pty`` -> ``Nm`` is the ``Nm`` of the first
  ``Pty`` of the first ``Dbtr`` of the first ``RltdPties``;
* ``_EACH``: every one, in document order, each a group of its own
  (``TxDtls``, ``Chrgs``, ``Rcrd``, ``CdtrRefInf``);
* ``_TEXTS``: the texts of every one, in document order (``Ustrd``,
  ``AdrLine``).

A group is a dictionary path -> text, element, group or list, with its own
element under ``"."``. Nothing is judged during the pass, so refusals and
warnings come in the order in which the fields are read below.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from lxml import etree

from importers.parse import references
from importers.model import (
    BadFile,
    Balance,
    Detail,
    Entry,
    Money,
    ParseResult,
    Statement,
)
from importers.parse.serialize import balance_warnings
from importers.parse.xmlsafe import parse_xml

# .001.09 to .001.13 keep the .001.08 structure of balances and entries.
SUPPORTED_VERSIONS = ("02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13")
# ISO 20022 messages that are not account statements, named when refused.
OTHER_MESSAGES = {
    "pain.001": "a pain.001 payment order (a customer's credit transfer instruction)",
    "pain.002": "a pain.002 payment status report",
    "pain.008": "a pain.008 direct debit order",
    "camt.056": "a camt.056 payment cancellation request",
    "camt.029": "a camt.029 resolution of investigation",
    "pacs.008": "a pacs.008 interbank credit transfer",
}
_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.(\d{2})$")
# message -> (root element, statement element, Statement.kind)
_MESSAGES = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt", "report"),
    "camt.053": ("BkToCstmrStmt", "Stmt", "statement"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification"),
}
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
_CREDIT = Decimal(1)
_DEBIT = Decimal(-1)
_ZERO = Decimal(0)
_TRUE = ("true", "1")

# --- what the parser reads: plans ------------------------------------------------
# A plan maps a local name to None (a leaf: its text), _NODE, _TEXTS, or
# (reading, plan of its children); the readings are described in the module
# docstring.
_NODE, _TEXTS, _ALL, _ONE, _EACH = range(5)

_DATE_HOLDER = (_ONE, {"Dt": None, "DtTm": None})  # BookgDt, ValDt, Bal/Dt, FrDtTm, ToDtTm
_BANK_CODE = (_ALL, {
    "Domn": (_ALL, {"Cd": None, "Fmly": (_ALL, {"Cd": None, "SubFmlyCd": None})}),
    "Prtry": (_ALL, {"Cd": None}),
})
_RECORD = {"Amt": _NODE, "CdtDbtInd": None, "ChrgInclInd": None}
_CHARGES = (_EACH, {**_RECORD, "Rcrd": (_EACH, _RECORD)})  # .001.02 repeats Chrgs, later ones Rcrd
_ADDRESS = (_ONE, {
    "AdrLine": _TEXTS, "StrtNm": None, "BldgNb": None, "PstCd": None, "TwnNm": None, "Ctry": None,
})
_PARTY = (_ONE, {"Nm": None, "PstlAdr": _ADDRESS, "Pty": (_ONE, {"Nm": None, "PstlAdr": _ADDRESS})})
_ACCOUNT = (_ALL, {"Id": (_ALL, {"IBAN": None, "Othr": (_ALL, {"Id": None})})})
_AGENT = (_ALL, {"FinInstnId": (_ALL, {"BICFI": None, "BIC": None})})
_XCHG = (_ONE, {"XchgRate": None, "UnitCcy": None, "SrcCcy": None, "TrgtCcy": None})

_DETAIL = {
    "Amt": _NODE,
    "AmtDtls": (_ALL, {
        "TxAmt": (_ALL, {"Amt": _NODE, "CcyXchg": _XCHG}),
        "InstdAmt": (_ALL, {"Amt": _NODE, "CcyXchg": _XCHG}),
        "CntrValAmt": (_ALL, {"CcyXchg": _XCHG}),
    }),
    "RltdPties": (_ONE, {
        "Dbtr": _PARTY, "UltmtDbtr": _PARTY, "DbtrAcct": _ACCOUNT,
        "Cdtr": _PARTY, "UltmtCdtr": _PARTY, "CdtrAcct": _ACCOUNT,
    }),
    "RltdAgts": (_ALL, {"DbtrAgt": _AGENT, "CdtrAgt": _AGENT}),
    "RmtInf": (_ALL, {
        "Ustrd": _TEXTS,
        "Strd": (_ALL, {"CdtrRefInf": (_EACH, {
            "Ref": None, "Tp": (_ALL, {"CdOrPrtry": (_ALL, {"Cd": None, "Prtry": None})}),
        })}),
    }),
    "Refs": (_ALL, {"EndToEndId": None, "AcctSvcrRef": None}),
    "RtrInf": (_ALL, {"Rsn": (_ALL, {"Cd": None, "Prtry": None})}),
    "BkTxCd": _BANK_CODE,
    "AddtlTxInf": None,
    "Chrgs": _CHARGES,
}
_ENTRY = {
    "CdtDbtInd": None,
    "Amt": _NODE,
    "Sts": (_ALL, {"Cd": None, "Prtry": None}),
    "BookgDt": _DATE_HOLDER,
    "ValDt": _DATE_HOLDER,
    "RvslInd": None,
    "AcctSvcrRef": None,
    "NtryRef": None,
    "AddtlNtryInf": None,
    "BkTxCd": _BANK_CODE,
    "NtryDtls": (_ALL, {"Btch": (_ALL, {"NbOfTxs": None}), "TxDtls": (_EACH, _DETAIL)}),
    "Chrgs": _CHARGES,
}
_BALANCE = {
    "Tp": (_ALL, {"CdOrPrtry": (_ALL, {"Cd": None, "Prtry": None})}),
    "CdtDbtInd": None,
    "Amt": _NODE,
    "Dt": _DATE_HOLDER,
}
_STATEMENT_ACCOUNT = {"Id": _ACCOUNT[1]["Id"], "Ccy": None}  # Stmt/Acct: Id/IBAN, Id/Othr/Id, Ccy
_PERIOD = {"FrDtTm": _DATE_HOLDER, "ToDtTm": _DATE_HOLDER}
# Children of Stmt/Rpt/Ntfctn read directly (Bal and Ntry are read one by one).
_STATEMENT_NAMES = (
    "Id", "Acct", "ElctrncSeqNb", "LglSeqNb", "CpyDplctInd", "CreDtTm", "FrToDt", "Bal", "Ntry",
)


_NO_GROUP: dict = {}  # what is filed for an absent group; never written to
_NOBODY = (None, None, None)  # (name, country, address) of an absent party


class _Role(NamedTuple):
    """Paths (in a ``TxDtls`` and its ``RltdPties``) of the counterparty of one side."""

    party: str
    ultimate: str
    iban: str
    other_id: str
    bicfi: str
    bic: str


def _role(party: str, ultimate: str, account: str, agent: str) -> _Role:
    bank = f"RltdAgts/{agent}/FinInstnId/"
    return _Role(party, ultimate, f"{account}/Id/IBAN", f"{account}/Id/Othr/Id", bank + "BICFI", bank + "BIC")


# For a credit the counterparty is the debtor, for a debit the creditor.
_CREDIT_ROLE = _role("Dbtr", "UltmtDbtr", "DbtrAcct", "DbtrAgt")
_DEBIT_ROLE = _role("Cdtr", "UltmtCdtr", "CdtrAcct", "CdtrAgt")


def _compile(plan: dict, namespace: str, prefix: str = "") -> dict:
    """Clark tag -> how :func:`_file` files it, for one namespace.

    A text leaf, the commonest, becomes its path alone; anything else
    (path, reading, compiled plan of its children or None).
    """
    compiled = {}
    for local, how in plan.items():
        path = prefix + local
        tag = _clark(namespace, local)
        if how is None:
            compiled[tag] = path
        elif how in (_NODE, _TEXTS):
            compiled[tag] = (path, how, None)
        else:
            reading, children = how
            # _ALL files the children in the same group, under the path; the
            # others start a group of their own.
            inner = path + "/" if reading == _ALL else ""
            compiled[tag] = (path, reading, _compile(children, namespace, inner))
    return compiled


def _clark(namespace: str, local: str) -> str:
    """lxml's tag of an element: ``{namespace}Local``, or ``Local`` in no namespace ("")."""
    return f"{{{namespace}}}{local}" if namespace else local


class _Tags:
    """Clark-notation tags ``{namespace}Local`` and compiled plans of one camt
    namespace (or of none: runs of entries read without it, see _split)."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        for name in _STATEMENT_NAMES:
            setattr(self, name, _clark(namespace, name))
        self.entry = _compile(_ENTRY, namespace)
        self.balance = _compile(_BALANCE, namespace)
        self.account = _compile(_STATEMENT_ACCOUNT, namespace)
        self.period = _compile(_PERIOD, namespace)

    def of(self, local: str) -> str:
        return _clark(self.namespace, local)


@functools.lru_cache(maxsize=32)
def _tags(namespace: str) -> _Tags:
    return _Tags(namespace)


# --- reading the tree --------------------------------------------------------


def _group(parent) -> dict:
    """The children of ``parent`` filed by tag, in document order."""
    kids: dict = {}
    for child in parent:
        tag = child.tag
        found = kids.get(tag)
        if found is None:
            kids[tag] = [child]
        else:
            found.append(child)
    return kids


def _first(kids: dict, tag: str):
    found = kids.get(tag)
    return found[0] if found else None


def _file(top, plan: dict) -> dict:
    """Read ``top``'s subtree once, filing what ``plan`` asks for (see module docstring).

    Breadth first: ``todo`` holds the elements still to look into, with
    their plan and the group their children go to. A path has a fixed depth,
    and breadth first meets the elements of one depth in document order, so
    "the first" and "every, in order" mean what they mean in the document.
    Nothing below an element the plan does not name (or below a second
    ``_ONE``) is looked at. Texts are trimmed here, as :func:`_text` does, so
    each is read once.
    """
    group = {".": top}
    todo = [(top, plan, group)]
    for parent, plan, found in todo:  # grows while it is read
        for el in parent[:]:  # a list in one call: cheaper than iterating
            spec = plan.get(el.tag)
            if spec is None:
                continue
            if type(spec) is str:  # a text leaf
                if spec not in found:
                    text = el.text
                    found[spec] = (text.strip() or None) if text else None
                continue
            path, reading, inner = spec
            if reading == _ALL:
                if path not in found:
                    found[path] = el
                todo.append((el, inner, found))
            elif reading == _NODE:
                if path not in found:
                    found[path] = el
            elif reading == _ONE:
                if path not in found:
                    found[path] = own = {".": el}
                    todo.append((el, inner, own))
            elif reading == _EACH:
                own = {".": el}
                todo.append((el, inner, own))
                found.setdefault(path, []).append(own)
            else:
                text = el.text
                found.setdefault(path, []).append((text.strip() or None) if text else None)
    return group


def _text(node) -> str | None:
    """The element's text, trimmed; None when absent or blank."""
    if node is None:
        return None
    value = node.text
    if value is None:
        return None
    value = value.strip()
    return value or None


def detect_version(path: str, root: etree._Element) -> str:
    """``camt.053.001.08`` from the root namespace, or BadFile."""
    qname = etree.QName(root)
    match = _NAMESPACE.match(qname.namespace or "")
    namespace = qname.namespace or ""
    for prefix, what in OTHER_MESSAGES.items():
        if namespace.startswith(f"urn:iso:std:iso:20022:tech:xsd:{prefix}."):
            raise BadFile(path, f"not a bank statement: it is {what}")
    if qname.localname != "Document" or not namespace.startswith("urn:iso:std:iso:20022:tech:xsd:camt."):
        raise BadFile(path, f"not a bank statement: root element <{qname.localname}>")
    if not match:
        raise BadFile(path, f"unknown camt version {qname.namespace.rsplit(':', 1)[-1]}")
    message, version = match.groups()
    if version not in SUPPORTED_VERSIONS:
        raise BadFile(path, f"unknown camt version {message}.001.{version}")
    return f"{message}.001.{version}"


def parse_camt_bytes(path: str, data: bytes) -> ParseResult:
    """Parse (hardened, :func:`importers.parse.xmlsafe.parse_xml`) and read a camt file."""
    return parse_camt(path, parse_xml(path, data))


def _statement_where(stmt_id: str | None, number: int) -> str:
    """How refusals and warnings name a statement (its id, else its number)."""
    return f"statement {stmt_id or number} "


def _finish(stmt: Statement, warnings: list[str]) -> None:
    """What needs all of a statement's entries: the currency when nothing
    else tells it, and the warnings about its balances (added to ``warnings``)."""
    if stmt.currency is None:
        first = stmt.opening or stmt.closing or (stmt.entries[0] if stmt.entries else None)
        stmt.currency = first.currency if first is not None else None
    warnings.extend(balance_warnings([stmt]))


def _document(path: str, root: etree._Element) -> tuple[str, str, _Tags, list[dict]]:
    """(version, Statement.kind, tags, the children of each statement filed by tag)."""
    version = detect_version(path, root)
    message = version[:8]
    root_name, stmt_name, kind = _MESSAGES[message]
    tags = _tags(etree.QName(root).namespace)
    body = _first(_group(root), tags.of(root_name))
    if body is None:
        first = next(iter(root), None)
        found = etree.QName(first).localname if first is not None else "nothing"
        raise BadFile(path, f"not a {message} message: expected <{root_name}>, found <{found}>")
    stmts = _group(body).get(tags.of(stmt_name))
    if not stmts:
        raise BadFile(path, f"{message} message without any <{stmt_name}>")
    return version, kind, tags, [_group(el) for el in stmts]


def parse_camt(path: str, root: etree._Element) -> ParseResult:
    """Turn a parsed camt document into a ParseResult (pure, no I/O)."""
    version, kind, tags, groups = _document(path, root)
    parser = _CamtParser(path, tags, version)
    result = ParseResult(path=path, format=version)
    for number, kids in enumerate(groups, 1):
        result.statements.append(parser.statement(kids, number, kind))
    result.warnings.extend(parser.warnings)
    if kind == "report":
        result.warnings.append(
            "camt.052 is an intraday report, not a final statement: nothing in it may be booked"
        )
    return result


@functools.lru_cache(maxsize=4096)
def _day(text: str) -> datetime.date | None:
    """The calendar date a date text starts with, None if it is not one.

    Cached: a statement repeats the same few hundred booking and value dates.
    """
    match = _DATE.match(text)
    try:
        return datetime.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


class _CamtParser:
    def __init__(self, path: str, tags: _Tags, version: str):
        self.path = path
        self.t = tags
        self.version = version
        self.warnings: list[str] = []
        # What refusals and warnings start with ("statement S entry N ").
        self._where = ""

    # --- small value readers ------------------------------------------------
    def fail(self, problem: str):
        raise BadFile(self.path, f"{self._where}{problem}")

    def amount(self, node, what: str) -> Decimal:
        text = None if node is None else node.text
        if text is None:
            self.fail(f"has no {what}")
        text = text.strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fail(f"{what} {text!r} is not a number")
        if not value.is_finite() or value < 0:
            self.fail(f"{what} {text!r} is not a valid amount")
        return value

    def money(self, node, what: str) -> Money | None:
        """Amount and ``Ccy`` of an ``Amt``-like element; None when there is none."""
        if node is None:
            return None
        return Money(self.amount(node, what), (node.get("Ccy") or "").strip())

    def date(self, holder: dict | None, what: str) -> datetime.date | None:
        """``Dt`` or ``DtTm`` of a filed date holder; the calendar date as written."""
        if holder is None:
            return None
        # FrDtTm-style elements carry the value themselves.
        text = holder.get("Dt") or holder.get("DtTm") or _text(holder["."])
        if text is None:
            return None
        day = _day(text)
        if day is None:
            self.fail(f"{what} {text!r} is not a date")
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
    def statement(self, kids: dict, number: int, kind: str) -> Statement:
        """A ``Stmt``/``Rpt``/``Ntfctn`` and its entries, from its children filed by tag (:func:`_group`)."""
        t = self.t
        stmt_id = _text(_first(kids, t.Id))
        self._where = where = _statement_where(stmt_id, number)
        acct_el = _first(kids, t.Acct)
        acct = _file(acct_el, t.account) if acct_el is not None else _NO_GROUP
        stmt = Statement(
            id=stmt_id,
            account=acct.get("Id/IBAN") or acct.get("Id/Othr/Id"),
            currency=acct.get("Ccy"),
            kind=kind,
            sequence=_text(_first(kids, t.ElctrncSeqNb)) or _text(_first(kids, t.LglSeqNb)),
            copy=_text(_first(kids, t.CpyDplctInd)),
            created=self.datetime(_text(_first(kids, t.CreDtTm))),
        )
        period_el = _first(kids, t.FrToDt)
        if period_el is not None:
            period = _file(period_el, t.period)
            stmt.period = (
                self.date(period.get("FrDtTm"), "FrDtTm"),
                self.date(period.get("ToDtTm"), "ToDtTm"),
            )
        opbd = False
        for bal_el in kids.get(t.Bal, ()):
            bal = _file(bal_el, t.balance)
            code = bal.get("Tp/CdOrPrtry/Cd") or bal.get("Tp/CdOrPrtry/Prtry")
            what = f"balance {code or '?'}"
            sign = self.sign(bal.get("CdtDbtInd"), what)
            money = self.money(bal.get("Amt"), f"{what} amount")
            if money is None:
                self.fail(f"{what} has no Amt")
            day = self.date(bal.get("Dt"), f"{what} date")
            if code not in ("OPBD", "PRCD", "CLBD"):
                continue
            if day is None:
                self.fail(f"{what} has no date")
            balance = Balance(day, sign * money.amount, money.currency)
            if code == "OPBD" and not opbd:
                stmt.opening, opbd = balance, True  # the opening booked balance wins over a PRCD
            elif code == "PRCD" and stmt.opening is None:
                stmt.opening = balance  # the previous closing: the opening when there is no OPBD
            elif code == "CLBD" and stmt.closing is None:
                stmt.closing = balance
        plan = t.entry
        for index, ntry in enumerate(kids.get(t.Ntry, ()), 1):
            stmt.entries.append(self.entry(_file(ntry, plan), f"{where}entry {index} "))
            self._where = where
        _finish(stmt, self.warnings)
        return stmt

    # --- entry ------------------------------------------------------------------
    def entry(self, ntry: dict, where: str) -> Entry:
        """The ``Ntry`` filed by :func:`_file` with the ``_ENTRY`` plan."""
        self._where = where
        sign = self.sign(ntry.get("CdtDbtInd"), "")
        node = ntry.get("Amt")
        if node is None:
            self.fail("has no Amt")
        amount = sign * self.amount(node, "Amt")
        status = ntry.get("Sts/Cd") or ntry.get("Sts/Prtry") or _text(ntry.get("Sts"))
        if status is None:
            self.fail("has no Sts")
        booked = self.date(ntry.get("BookgDt"), "BookgDt")
        batch_count = self.batch_count(ntry.get("NtryDtls/Btch/NbOfTxs"))
        # Positional and attribute by attribute: a dataclass called with
        # keywords costs twice as much, and there are tens of thousands.
        value = self.date(ntry.get("ValDt"), "ValDt")
        if booked is None and status == "BOOK":
            # BookgDt is optional (0..1): a booked entry with only a value date
            # is booked on it, and the file says so in its warnings.
            if value is None:
                self.fail("is booked but has neither BookgDt nor ValDt")
            booked = value
            self.warnings.append(f"{where.strip()}: booked without BookgDt; its value date {value} is used")
        entry = Entry(amount, (node.get("Ccy") or "").strip(), booked, value, status)
        entry.reversal = (ntry.get("RvslInd") or "").lower() in _TRUE
        entry.ref = ntry.get("AcctSvcrRef")
        entry.entry_ref = ntry.get("NtryRef")
        entry.text = ntry.get("AddtlNtryInf") or ""
        entry.bank_code = self.bank_code(ntry) if "BkTxCd" in ntry else None
        entry.batch_count = batch_count
        details = entry.details
        role = _CREDIT_ROLE if sign > 0 else _DEBIT_ROLE
        for number, tx in enumerate(ntry.get("NtryDtls/TxDtls", ()), 1):
            details.append(self.detail(tx, sign, role, number))
        chrgs = ntry.get("Chrgs")
        if chrgs:
            entry.charges = self.entry_charges(chrgs, details)
        return entry

    def batch_count(self, batch: str | None) -> int | None:
        try:
            return int(batch) if batch is not None else None
        except ValueError:
            self.fail(f"has a non-numeric Btch/NbOfTxs {batch!r}")

    def entry_charges(self, chrgs: list[dict], details: list[Detail]) -> Decimal | None:
        """The charges deducted from the entry, unless they only repeat its details' charges."""
        deducted = self.charges(chrgs)[0]
        if deducted is None:
            return None  # whatever the details say
        details_deducted = [d.charges for d in details if d.charges is not None]
        details_info = [d.charges_info for d in details if d.charges_info is not None]
        repeats = (details_deducted or details_info) and (deducted or None) == (sum(details_deducted, _ZERO) or None)
        return None if repeats else deducted

    def bank_code(self, filed: dict) -> str | None:
        """``Domn/Cd``/``Fmly/Cd``/``SubFmlyCd`` of ``BkTxCd`` in an entry or detail, else ``Prtry/Cd``."""
        domain = filed.get("BkTxCd/Domn/Cd")
        if domain:
            parts = (domain, filed.get("BkTxCd/Domn/Fmly/Cd"), filed.get("BkTxCd/Domn/Fmly/SubFmlyCd"))
            return "/".join(filter(None, parts))
        return filed.get("BkTxCd/Prtry/Cd")

    def charges(self, chrgs: list[dict]) -> tuple[Decimal | None, Decimal | None]:
        """(deducted, informational) charges of the filed ``Chrgs`` elements."""
        records = [rec for group in chrgs for rec in group.get("Rcrd", ())] or chrgs
        deducted: Decimal | None = None
        info: Decimal | None = None
        for rec in records:
            node = rec.get("Amt")
            if node is None:
                continue
            value = self.amount(node, "charge amount")
            if rec.get("CdtDbtInd") == "CRDT":
                value = -value  # a refunded charge
            included = (rec.get("ChrgInclInd") or "true").lower() in _TRUE
            if included:
                deducted = (deducted or _ZERO) + value
            else:
                info = (info or _ZERO) + value
        return deducted, info

    # --- transaction details -------------------------------------------------------
    def detail(self, tx: dict, sign: Decimal, role: _Role, number: int) -> Detail:
        """A ``TxDtls`` filed with the ``_DETAIL`` plan; ``role`` names the counterparty's paths."""
        detail = Detail()  # then field by field, as for Entry
        node, what = tx.get("Amt"), "detail Amt"
        if node is None:
            node, what = tx.get("AmtDtls/TxAmt/Amt"), "detail TxAmt"
        if node is not None:
            detail.amount = sign * self.amount(node, what)
            detail.currency = (node.get("Ccy") or "").strip()
        parties = tx.get("RltdPties") or _NO_GROUP
        party = parties.get(role.party)
        who = self._party(party) if party is not None else _NOBODY
        party = parties.get(role.ultimate)
        ult = self._party(party) if party is not None else _NOBODY
        detail.payer, detail.payer_country, detail.payer_address = who
        detail.payer_account = parties.get(role.iban) or parties.get(role.other_id)
        detail.ultimate_payer, detail.ultimate_payer_country = ult[0], ult[1]
        detail.counterparty_bic = tx.get(role.bicfi) or tx.get(role.bic)
        lines = tx.get("RmtInf/Ustrd")
        if lines:
            detail.remittance = " ".join(filter(None, lines))
        detail.end_to_end_id = tx.get("Refs/EndToEndId")
        detail.detail_ref = tx.get("Refs/AcctSvcrRef")
        detail.return_reason = tx.get("RtrInf/Rsn/Cd") or tx.get("RtrInf/Rsn/Prtry")
        if "BkTxCd" in tx:
            detail.bank_code = self.bank_code(tx)
        detail.text = tx.get("AddtlTxInf") or ""
        infos = tx.get("RmtInf/Strd/CdtrRefInf")
        if infos:
            self._reference(infos, detail, f"{self._where}detail {number}")
        if "AmtDtls" in tx:
            self._fx(tx, detail)
        chrgs = tx.get("Chrgs")
        if chrgs:
            detail.charges, detail.charges_info = self.charges(chrgs)
        return detail

    def _party(self, party: dict) -> tuple[str | None, str | None, str | None]:
        """(name, country, address) of a filed ``Dbtr``-like element, .001.02-.08 shapes."""
        party = party.get("Pty", party)
        name = party.get("Nm")
        address = party.get("PstlAdr")
        if address is None:
            return name, None, None
        lines = address.get("AdrLine")
        if not lines or not any(lines):
            street = " ".join(filter(None, (address.get("StrtNm"), address.get("BldgNb"))))
            town = " ".join(filter(None, (address.get("PstCd"), address.get("TwnNm"))))
            lines = (street, town)
        return name, address.get("Ctry"), ", ".join(filter(None, lines)) or None

    def _reference(self, infos: list[dict], detail: Detail, where: str) -> None:
        """The first ``CdtrRefInf`` with a ``Ref``; a failed check-digit test is a warning."""
        for info in infos:
            ref = info.get("Ref")
            if not ref:
                continue
            kind = info.get("Tp/CdOrPrtry/Cd") or info.get("Tp/CdOrPrtry/Prtry")
            detail.reference, detail.reference_type = ref, kind
            detail.reference_valid = references.is_valid(ref, kind)
            if detail.reference_valid is False:
                self.warnings.append(
                    f"{where}: reference {ref} fails the {references.check_name(ref, kind)} check"
                )
            return

    def _fx(self, tx: dict, detail: Detail) -> None:
        detail.instructed = self.money(tx.get("AmtDtls/InstdAmt/Amt"), "instructed amount")
        for holder in ("AmtDtls/TxAmt/CcyXchg", "AmtDtls/InstdAmt/CcyXchg", "AmtDtls/CntrValAmt/CcyXchg"):
            xchg = tx.get(holder)
            if xchg is None:
                continue
            rate = xchg.get("XchgRate")
            try:
                detail.rate = Decimal(rate) if rate else None
            except InvalidOperation:
                self.fail(f"exchange rate {rate!r} is not a number")
            detail.rate_unit = xchg.get("UnitCcy")
            detail.rate_source = xchg.get("SrcCcy")
            detail.rate_target = xchg.get("TrgtCcy")
            return
