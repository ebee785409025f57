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
of entries of some 40 elements each. lxml's ``find`` re-enters its
ElementPath engine on every call; a dictionary of children built for each
element looked into (the previous approach) still cost a Python call, an
iterator and a dictionary per group, some 20 per entry, and a second
function call per text. What cannot be avoided is lxml making a proxy and a
``{namespace}Local`` tag string for each element (a quarter of the time
now). So each ``Ntry`` (and each balance, account, period) is read in
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
import hashlib
import pickle
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
    entry_from_plain,
    plain_entry,
)
from importers.parse.serialize import balance_warnings
from importers.parse.xmlsafe import parse_xml, prolog_end
from ledger import twocores

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
# A file this big is read on two cores when the process allows it (see
# parse_camt_bytes); about 4,000 entries, well under a second on one core.
PARALLEL_MIN_BYTES = 4_000_000

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


def parse_camt_bytes(path: str, data: bytes) -> ParseResult:
    """Parse (hardened, :func:`importers.parse.xmlsafe.parse_xml`) and read a camt file.

    A big file in a process that allows it (:mod:`ledger.twocores`) is read
    on two cores, by :func:`_on_two_cores`; the result is the same.
    """
    if twocores.usable(len(data), PARALLEL_MIN_BYTES):
        result = _on_two_cores(path, data)
        if result is not None:
            return result
    return parse_camt(path, parse_xml(path, data))


# --- a big file on two cores ----------------------------------------------------
# The entries of a statement are runs of bytes between its header and its
# end. So the bytes are cut at entries (:func:`_split`, a few searches, no
# parse) into segments, and this process and a forked child take segments
# from either end (ledger.twocores.Chunks), each parsing and reading its
# segments' entries on its own: every byte is parsed once, on one of the two
# cores. The child also parses the file less its entries (the *skeleton*:
# the header, the balances, everything between statements), with a marker
# where each run of entries was, and reads the statements from it; it sends
# each segment as soon as it is read, and this process makes those entries
# again between two segments of its own.
#
# That the pieces put together are the file is proven, not assumed. With no
# comment, CDATA section, DOCTYPE or processing instruction past the prolog
# (no ``<!``, no ``<?`` from the root on: checked on every byte), every
# ``<`` starts a tag. A run parses, wrapped in the root's own start tag
# (its namespaces) and two levels below it (an entry is as deep as in the
# file), into exactly that structure with nothing but ``Ntry`` elements in
# it; the skeleton parses with each marker a child of a statement element
# whose namespaces are the root's, every marker in order and in its place,
# and no entry left. Then the runs are well-formed content at the markers,
# and the file's tree is the skeleton's with each marker replaced by its
# run's entries. Anything else, and the file is read in one process, which
# gives the refusal (or result) it always gives.

_BOM = b"\xef\xbb\xbf"
_DECLARATION = re.compile(rb"<\?xml\s[^<>?]*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Encodings in which a byte below 0x80 is always that ASCII character, so the
# bytes can be cut at tags and each piece read alone.
_CUTTABLE_ENCODINGS = re.compile(r"(?i)utf-?8|us-ascii|ascii|iso-8859-\d+|latin-?1|windows-125\d|cp125\d")
_NAME = rb"[A-Za-z_][\w.\-]*"
_ROOT_TAG = re.compile(rb"<(" + _NAME + rb"(?::" + _NAME + rb")?)(?:\s[^<>]*)?>")
_NTRY_START = re.compile(rb"<(?:" + _NAME + rb":)?Ntry[\s/>]")
_NTRY_END = re.compile(rb"</(?:" + _NAME + rb":)?Ntry\s*>")
_MESSAGE = re.compile(rb"camt\.05([234])\.001\.")
_DEFAULT_NAMESPACE = re.compile(rb"""\sxmlns\s*=\s*(["'])([^"'<>]*)\1""")
_STATEMENT_ELEMENTS = {b"2": b"Rpt", b"3": b"Stmt", b"4": b"Ntfctn"}
_MARKER = "isu-cut"  # the processing instruction standing for a run in the skeleton
_SEGMENTS = 32  # about this many segments: a child held up leaves the other one more
_SEGMENT_MIN = 100_000  # bytes


class _Split(NamedTuple):
    """Where a big camt file is cut (:func:`_split`)."""

    head: bytes  # the prolog and the root's start tag: what a run is wrapped in
    namespace: str  # the file's camt namespace, when the runs are read without it ("" else)
    inside: bytes  # two levels below the root, so an entry is as deep as in the file
    close: bytes
    body: int  # where the root element starts: no ``<!`` or ``<?`` from here on
    statement_end: re.Pattern  # ``</Stmt>`` (``</Rpt>``, ``</Ntfctn>``) in any prefix
    needle: bytes  # ``Stmt>``: what a statement's end tag ends with
    segments: list[tuple[int, int]]  # [start, end) of each, in file order


def _split(data: bytes) -> _Split | None:
    """Segments of about ``len(data) / _SEGMENTS`` bytes, each from an
    ``Ntry`` start tag to the next segment (the last to the end of the last
    ``</Ntry>``), and what a run is wrapped in; None when the file cannot be
    cut (its encoding, its root, no entries). A few searches: the cuts are
    checked by the reading (see above)."""
    declaration = _DECLARATION.match(data, len(_BOM) if data.startswith(_BOM) else 0)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group())
        if encoding is not None and not _CUTTABLE_ENCODINGS.fullmatch(encoding.group(1).decode()):
            return None
    body = prolog_end(data)
    root = _ROOT_TAG.match(data, body)
    message = _MESSAGE.search(root.group()) if root is not None else None
    if message is None or root.group().endswith(b"/>"):
        return None
    first = _NTRY_START.search(data, root.end())
    last = _last_entry_end(data, first.start(), len(data)) if first is not None else None
    if last is None:
        return None
    step = max(_SEGMENT_MIN, (last - first.start()) // _SEGMENTS)
    bounds = [first.start()]
    while (found := _NTRY_START.search(data, bounds[-1] + step, last)) is not None:
        bounds.append(found.start())
    name = _STATEMENT_ELEMENTS[message.group(1)]
    qname = root.group(1)
    head, namespace = _without_default_namespace(root.group(), qname)
    return _Split(
        head=data[: root.start()] + head,
        namespace=namespace,
        inside=b"<%s><%s>" % (qname, qname),
        close=b"</%s></%s></%s>" % (qname, qname, qname),
        body=body,
        statement_end=re.compile(rb"</(?:" + _NAME + rb":)?" + name + rb">"),
        needle=name + b">",
        segments=list(zip(bounds, bounds[1:] + [last])),
    )


def _without_default_namespace(tag: bytes, qname: bytes) -> tuple[bytes, str]:
    """The root's start tag less its default namespace declaration, and that
    namespace; the tag as it is and "" when that is not safe.

    lxml gives every element of a namespace a new ``{namespace}Local`` tag
    string, which is a fifth of the time a run takes to read; in no namespace
    it is ``Local``. Read that way, a run's unprefixed elements are the file's
    camt elements, provided that no prefix binds the camt namespace too
    (``<c:Amt>`` would then be one) and the run declares no namespace itself
    (checked on each run: ``_take``). The child checks that the namespace is
    the file's.
    """
    found = _DEFAULT_NAMESPACE.search(tag)
    namespace = found.group(2).decode("ascii", "replace") if found else ""
    if (
        b":" in qname
        or not _NAMESPACE.match(namespace)
        or re.search(rb"""xmlns:[^=\s]+\s*=\s*["']""" + re.escape(found.group(2)) + rb"""["']""", tag)
    ):
        return tag, ""
    return tag[: found.start()] + tag[found.end() :], namespace


def _last_entry_end(data: bytes, start: int, end: int) -> int | None:
    """Where the last ``</Ntry>`` in ``data[start:end]`` ends; None when there is none."""
    at = end
    while (at := data.rfind(b"Ntry", start, at)) >= 0:
        opening = data.rfind(b"</", max(start, at - 80), at)
        if opening >= 0:
            tag = _NTRY_END.match(data, opening, end)
            if tag is not None and tag.end() > at:
                return tag.end()
    return None


def _runs(data: bytes, split: _Split, start: int, end: int) -> list[tuple[int, int]]:
    """The runs of entries of one segment: the segment less what lies
    between a statement's last entry and the next statement's first."""
    runs = []
    at = start
    while (hit := data.find(split.needle, at, end)) >= 0:
        at = hit + 1
        opening = data.rfind(b"</", max(start, hit - 80), hit)
        if opening < 0 or not split.statement_end.fullmatch(data, opening, hit + len(split.needle)):
            continue  # a start tag, a longer name, text
        last = _last_entry_end(data, start, opening)
        if last is None:
            raise ValueError("a statement ends before the entry the segment starts with")
        runs.append((start, last))
        following = _NTRY_START.search(data, hit, end)
        if following is None:
            return runs
        start = at = following.start()
    runs.append((start, end))
    return runs


def _on_two_cores(path: str, data: bytes) -> ParseResult | None:
    """The file read by this process and a forked child (see above): the
    child reads the skeleton and takes segments from the front
    (:func:`_from_front`), sending each as soon as it is read; this process
    takes segments from the back, and between two of its own makes the
    child's entries again, until they meet, so neither waits for the other.
    None when the file cannot be cut, or anything went wrong on either side,
    and the caller reads the file in one process, which refuses it (or not)
    as it always does."""
    split = _split(data)
    if split is None:
        return None
    chunks = twocores.Chunks.create(len(split.segments))
    if chunks is None:
        return None
    with chunks:
        child = twocores.start(lambda send: _from_front(path, data, split, chunks, send), streaming=True)
        if child is None:
            return None
        with child:
            mine: list = []  # [segment, runs] read here
            theirs: list = []  # what the child sent, made again

            def done(segment: int, read: list) -> bool:
                mine.append([segment, read])
                sent = child.received(_decode_sent)
                if sent is None:
                    return False
                theirs.extend(sent)
                return True

            # The child finds the runs of every segment too (for the skeleton);
            # finding those of ours here costs less than waiting for them.
            try:  # each tree is freed as the next is read
                _take(path, data, split, chunks.back, lambda n: _runs(data, split, *split.segments[n]),
                      None, done, plain=False)
            except Exception:  # noqa: BLE001 - a bad entry, or a cut that does not hold: read again, in one
                return None
            sent = child.received(_decode_sent, wait=True)
    if sent is None:
        return None
    theirs.extend(sent)
    if not theirs or theirs[0][0] is not None:
        return None
    (_, counts, statement_of, result), taken = theirs[0], theirs[1:]
    starts = [0]
    for count in counts:
        starts.append(starts[-1] + count)
    if len(counts) != len(split.segments) or min(counts) < 1 or starts[-1] != len(statement_of):
        return None
    if statement_of != sorted(statement_of):  # runs in file order: statement by statement
        return None
    runs: list = [None] * len(statement_of)  # run number -> its entries
    for segment, read in taken + mine:
        if not 0 <= segment < len(counts) or runs[starts[segment]] is not None or len(read) != counts[segment]:
            return None
        runs[starts[segment] : starts[segment + 1]] = read
    if any(run is None for run in runs) or any(not 0 <= n < len(result.statements) for n in statement_of):
        return None
    by_statement: list[list] = [[] for _ in result.statements]
    for number, run in zip(statement_of, runs):
        by_statement[number].extend(run)
    warnings = []
    for number, (stmt, read) in enumerate(zip(result.statements, by_statement), 1):
        where = _statement_where(stmt.id, number)
        for index, (entry, raised) in enumerate(read, 1):
            stmt.entries.append(entry)
            if raised:
                warnings.extend(f"{where}entry {index} {warning}" for warning in raised)
        _finish(stmt, warnings)
    result.warnings[:0] = warnings
    return result


_KEPT: list = []  # in the child: its trees, never freed (the child leaves with os._exit)


def _from_front(path: str, data: bytes, split: _Split, chunks: twocores.Chunks, send) -> None:
    """The child's job. It sends first [None, runs in each segment, the
    statement each run belongs to, the ParseResult without entries, with the
    file's SHA-256 (pickled)], then [segment, runs] of each segment it takes, as
    :func:`_take` reads them, with entries as plain values."""
    segments = [_runs(data, split, start, end) for start, end in split.segments]
    runs = [run for found in segments for run in found]
    parts, at = [], 0
    for number, (start, end) in enumerate(runs):
        parts += (data[at:start], b"<?%s %d?>" % (_MARKER.encode(), number))
        at = end
    parts.append(data[at:])
    for index, part in enumerate(parts[::2]):
        skip = split.body if index == 0 else 0  # the prolog may hold comments: it is not cut
        if part.find(b"<!", skip) >= 0 or part.find(b"<?", skip) >= 0:
            raise ValueError("a comment, CDATA section or processing instruction")
    root = parse_xml(path, b"".join(parts), keep_pis=True)
    _KEPT.append(root)  # freeing a tree takes a fifth of the time it took to read; the child's exit is free
    version, kind, tags, groups = _document(path, root)
    if split.namespace and split.namespace != tags.namespace:
        raise ValueError("runs read in another namespace than the file's")
    statement_of = []
    for number, kids in enumerate(groups):
        if tags.Ntry in kids:
            raise ValueError("an entry outside the runs")
        for marker in kids.get(etree.PI, ()):
            if marker.target != _MARKER or marker.text != str(len(statement_of)):
                raise ValueError("a run out of its place")
            if marker.getparent().nsmap != root.nsmap:
                raise ValueError("a statement with namespaces of its own")
            statement_of.append(number)
    if len(statement_of) != len(runs) or sum(1 for _ in root.iter(etree.PI)) != len(runs):
        raise ValueError("a run out of its place")
    result = _read_statements(path, version, kind, tags, groups, entries=False)
    result.sha256 = hashlib.sha256(data).hexdigest()  # here, not after the reading, in this process
    send([None, [len(found) for found in segments], statement_of, pickle.dumps(result, pickle.HIGHEST_PROTOCOL)])
    _take(path, data, split, chunks.front, segments.__getitem__, _KEPT,
          lambda segment, read: send([segment, read]) or True, plain=True)


def _take(path: str, data: bytes, split: _Split, next_segment, runs_of, trees: list | None, done, *,
          plain: bool) -> None:
    """Read the segments taken with ``next_segment`` until none is left (or
    ``done`` returns False), and give each to ``done(segment, runs)``:
    ``runs`` is ``[[[entry, its warnings], ...] of each run]``, the entries
    as plain values (:func:`importers.model.plain_entry`) if ``plain``.

    Each run is parsed on its own, wrapped as in the file (see above), and
    its tree put in ``trees`` (if any). An entry's warnings name it from
    "detail ..." on: :func:`_on_two_cores` puts the statement and entry in
    front.
    """
    parser = None
    while (segment := next_segment()) is not None:
        read = []
        for start, end in runs_of(segment):
            piece = data[start:end]
            if b"<!" in piece or b"<?" in piece:
                raise ValueError("a comment, CDATA section or processing instruction")
            if split.namespace and b"xmlns" in piece:
                raise ValueError("a run that declares a namespace, read without the file's")
            root = parse_xml(path, b"".join((split.head, split.inside, piece, split.close)))
            if trees is not None:
                trees.append(root)
            if parser is None:
                if split.namespace:
                    version = _NAMESPACE.match(split.namespace).expand(r"\1.001.\2")
                    parser = _CamtParser(path, _tags(""), version)
                else:
                    parser = _CamtParser(path, _tags(etree.QName(root).namespace), detect_version(path, root))
            if len(root) != 1 or len(root[0]) != 1:
                raise ValueError("a run that is not a sequence of entries")
            ntry_tag, plan, warnings = parser.t.Ntry, parser.t.entry, parser.warnings
            run = []
            for ntry in root[0][0]:
                if ntry.tag != ntry_tag:
                    raise ValueError("a run that is not a sequence of entries")
                entry = parser.entry(_file(ntry, plan), "")
                run.append([plain_entry(entry) if plain else entry, warnings[:]])
                warnings.clear()
            read.append(run)
        if not done(segment, read):
            raise ValueError("the other side failed")


def _decode_sent(sent: list) -> list:
    """One value the child sent (:func:`_from_front`), made again:
    [None, counts, statement_of, ParseResult] or [segment, runs of (Entry,
    warnings)]; ValueError for anything else."""
    segment, *rest = sent
    if segment is None:
        counts, statement_of, skeleton = rest
        result = pickle.loads(skeleton)  # our own child's bytes
        if not isinstance(result, ParseResult) or len(result.sha256) != 64:
            raise ValueError("not a ParseResult")
        if not all(type(n) is int for numbers in (counts, statement_of) for n in numbers):
            raise ValueError("not a list of numbers")
        return [None, counts, statement_of, result]
    if type(segment) is not int:
        raise ValueError("not a segment number")
    (read,) = rest
    runs = []
    for run in read:
        entries = []
        for entry, raised in run:
            if not all(type(w) is str for w in raised):
                raise ValueError("not a warning")
            entries.append((entry_from_plain(entry), raised))
        runs.append(entries)
    return [segment, runs]


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
    return _read_statements(path, version, kind, tags, groups, entries=True)


def _read_statements(path: str, version: str, kind: str, tags: _Tags, groups: list[dict], *,
                     entries: bool) -> ParseResult:
    """The statements of ``groups``; without ``entries``, none is read, nor
    what depends on them (:func:`_finish`): :func:`_on_two_cores` adds them."""
    parser = _CamtParser(path, tags, version)
    result = ParseResult(path=path, format=version)
    for number, kids in enumerate(groups, 1):
        result.statements.append(parser.statement(kids, number, kind, entries=entries))
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
        # What refusals and warnings start with ("statement S entry N "): a
        # warning raised while an entry is read must start with it, since on
        # two cores it is read with "" and the place put in front after
        # (_on_two_cores).
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
    def statement(self, kids: dict, number: int, kind: str, *, entries: bool = True) -> Statement:
        """A ``Stmt``/``Rpt``/``Ntfctn`` from its children filed by tag (:func:`_group`);
        its entries too, unless told otherwise."""
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
        for bal_el in kids.get(t.Bal, ()):
            bal = _file(bal_el, t.balance)
            code = bal.get("Tp/CdOrPrtry/Cd") or bal.get("Tp/CdOrPrtry/Prtry")
            what = f"balance {code or '?'}"
            sign = self.sign(bal.get("CdtDbtInd"), what)
            money = self.money(bal.get("Amt"), f"{what} amount")
            if money is None:
                self.fail(f"{what} has no Amt")
            day = self.date(bal.get("Dt"), f"{what} date")
            if code not in ("OPBD", "CLBD"):
                continue
            if day is None:
                self.fail(f"{what} has no date")
            balance = Balance(day, sign * money.amount, money.currency)
            if code == "OPBD" and stmt.opening is None:
                stmt.opening = balance
            elif code == "CLBD" and stmt.closing is None:
                stmt.closing = balance
        if not entries:  # read elsewhere (_on_two_cores), and then finished
            return stmt
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
        if booked is None and status == "BOOK":
            self.fail("has no BookgDt")
        reversal = (ntry.get("RvslInd") or "").lower() in _TRUE
        batch = ntry.get("NtryDtls/Btch/NbOfTxs")
        try:
            batch_count = int(batch) if batch is not None else None
        except ValueError:
            self.fail(f"has a non-numeric Btch/NbOfTxs {batch!r}")
        # Positional and attribute by attribute: a dataclass called with
        # keywords costs twice as much, and there are tens of thousands.
        value = self.date(ntry.get("ValDt"), "ValDt")
        entry = Entry(amount, (node.get("Ccy") or "").strip(), booked, value, status)
        entry.reversal = reversal
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
        deducted = self.charges(chrgs)[0] if chrgs else None
        if deducted is not None:  # else entry.charges stays None, whatever the details say
            details_deducted = [d.charges for d in details if d.charges is not None]
            details_info = [d.charges_info for d in details if d.charges_info is not None]
            repeats = (details_deducted or details_info) and (deducted or None) == (
                sum(details_deducted, _ZERO) or None
            )
            entry.charges = None if repeats else deducted
        return entry

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
