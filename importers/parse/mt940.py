"""SWIFT MT940 statements.

Field parsing (``:61:`` amounts, dates, marks, balances) is done by the
``mt-940`` package. What it does not do is done here:

* **Splitting.** mt-940 merges every statement of a file into one object, so
  the file is split first: SWIFT envelopes (``{1:..}{2:..}{3:..}{4:`` ...
  ``-}`` ``{5:..}``) are removed and a line ``-`` or ``-}`` ends a statement.
* **Pages.** One statement can span pages (``:28C:999/1``, ``999/2``), each
  page closing with ``:62M:`` and the next opening with ``:60M:``. Pages are
  chained into ONE Statement: the first page's opening, the last page's
  closing, all entries. A file whose last page has no ``:62F:`` is truncated.
* **Signs.** SWIFT field 61 mark: ``C`` credit, ``D`` debit, ``RC`` reversal
  of a credit (money leaves the account: a debit), ``RD`` reversal of a debit
  (money comes back: a credit). mt-940 5.x signs ``RC`` positive unless asked
  otherwise, so the sign is computed here from the mark.
* **:86:.** Swiss banks wrap the free text at 65 characters mid-word, so the
  continuation lines are joined with nothing in between (a continuation that
  starts with a blank keeps it). Then per-bank layouts: PostFinance
  ``AUFTRAGGEBER:`` (payer) / ``MITTEILUNGEN:`` (remittance); German
  structured ``?NN`` subfields; and the UBS layout "payer name, IBAN,
  remittance" (the IBAN is where the name ends).
* **Bank reference** (the dedup key): the part after ``//`` in ``:61:`` and the
  second ``:61:`` line; ``NONREF`` is not a reference.

Every entry is "BOOK": an MT940 is a booked statement.
"""

from __future__ import annotations

import datetime
import logging
import re
from decimal import Decimal, InvalidOperation

import mt940 as mt940lib
from stdnum import iban as iban_check

from importers.model import Balance, BadFile, Detail, Entry, ParseResult, Statement
from importers.parse.serialize import balance_warnings

_ENVELOPE = re.compile(r"\{[1235]:[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_TERMINATOR = re.compile(r"^-\}?\s*$")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_PF_TOKEN = re.compile(r"\s+\d{6}[A-Z]{2}\d+\s*$")  # PostFinance "131209CH98765432"


# mt-940 logs every field it cannot read (with Python reprs) before raising;
# the refusal says it in one line, so its log stays out of the user's terminal.
logging.getLogger("mt940").addHandler(logging.NullHandler())
logging.getLogger("mt940").propagate = False


class _Statement61(mt940lib.tags.Statement):
    """``:61:`` as banks send it: a customer reference of up to 34 characters
    (the standard says 16; ASN and others send more). It carries no money."""

    pattern = mt940lib.tags.Statement.pattern.replace("{0,16})", "{0,34})")


class _Number28(mt940lib.tags.StatementNumber):
    """``:28C:`` without a statement number (``/1``: Zenith Bank and others).
    It carries no money; the statement is read without its number."""

    pattern = r"""
    (?P<statement_number>\d{0,5})  # 5n, missing in some files
    (?:/?(?P<sequence_number>\d{1,5}))?  # [/5n]
    $"""


_TAGS = {61: _Statement61(), 28: _Number28(), "28C": _Number28()}


class _Transactions(mt940lib.models.Transactions):
    """mt-940's reader, except that every ``:61:`` starts a transaction: mt-940
    merges a ``:61:`` without a transaction type code into the one before
    (Zenith Bank sends none), which would lose money silently."""

    def _process_statement_tag(self, result: dict) -> None:
        if self.transactions and "amount" not in self.transactions[-1].data:
            self.transactions[-1].data.update(result)
        else:
            self.transactions.append(mt940lib.models.Transaction(self, result))
_UNREADABLE = re.compile(r"Unable to parse <[\w.]*?\.?(\w+) object at 0x[0-9a-fA-F]+> from (.*)", re.S)
_REPR = re.compile(r"<[^<>]* object at 0x[0-9a-fA-F]+>")
_FIELDS = {
    "Statement": ":61: (a statement line)", "StatementNumber": ":28C: (statement number)",
    "_Statement61": ":61: (a statement line)", "_Number28": ":28C: (statement number)",
    "FinalOpeningBalance": ":60F: (opening balance)", "IntermediateOpeningBalance": ":60M: (opening balance)",
    "FinalClosingBalance": ":62F: (closing balance)", "IntermediateClosingBalance": ":62M: (closing balance)",
    "AvailableBalance": ":64: (available balance)", "ForwardAvailableBalance": ":65: (forward available balance)",
    "AccountIdentification": ":25: (account)", "TransactionReferenceNumber": ":20: (reference)",
}
_NO_MONEY = re.compile(r"^:6[45][A-Z]?:.*$", re.M)  # available balances: informative, not the statement's money


def _problem(exc: BaseException) -> str:
    """mt-940's complaint in words: the field and the text it could not read."""
    text = str(exc.args[0] if exc.args else exc)
    match = _UNREADABLE.match(text)
    if match:
        field = _FIELDS.get(match.group(1), match.group(1))
        value = " ".join(match.group(2).split())[:60]
        return f"field {field} cannot be read: {value}"
    return " ".join(_REPR.sub("a field", text).split())[:120]


def lenient_warnings(block: str, number: int) -> list[str]:
    """What a block bends of the standard in fields that carry no money."""
    out = []
    if re.search(r"^:28C?:\s*/", block, re.M):
        out.append(f"MT940 statement {number}: :28C: has no statement number; read without it")
    if re.search(r"^:61:\d{6}(?:\d{4})?R?[DC][A-Z]?[\d,]+[A-Z][A-Z0-9 ]{3}(?:(?!//)[^\n]){17,}", block, re.M):
        out.append(f"MT940 statement {number}: a :61: customer reference is longer than 16 characters")
    return out


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def split_statements(text: str) -> list[str]:
    """The statement blocks of a file, SWIFT envelopes removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ENVELOPE.sub("", text).replace("{4:", "\n")
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if _TERMINATOR.match(line):
            blocks.append([])
            continue
        current = blocks[-1]
        # A new :20: after a closing balance starts a statement even without "-".
        if line.startswith(":20:") and any(seen.startswith((":62F:", ":62M:")) for seen in current):
            blocks.append(current := [])
        current.append(line)
    return ["\n".join(b).strip() for b in blocks if "\n".join(b).strip()]


def _date(value) -> datetime.date | None:
    if value is None:
        return None
    return datetime.date(value.year, value.month, value.day)


def _balance(value) -> Balance:
    return Balance(_date(value.date), value.amount.amount, value.amount.currency)


class _Page:
    def __init__(self, path: str, block: str, number: int):
        if ":25:" not in block and ":20:" not in block:
            raise BadFile(path, f"not an MT940 statement: block {number} has no :20:/:25: field")
        self.warnings = lenient_warnings(block, number)
        if _NO_MONEY.search(block):
            block = _NO_MONEY.sub("", block)
        tx = _Transactions(tags=_TAGS)
        try:
            tx.parse(block)
        except (RuntimeError, ValueError, KeyError, IndexError, InvalidOperation) as exc:
            raise BadFile(path, f"MT940 statement {number}: {_problem(exc)}") from exc
        data = tx.data
        self.reference = data.get("transaction_reference")
        self.account = data.get("account_identification")
        self.number = data.get("statement_number")
        self.page = data.get("sequence_number")
        label = f"{self.reference or number}"
        opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
        closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
        if opening is None:
            raise BadFile(path, f"MT940 statement {label} has no opening balance :60F:/:60M:")
        if closing is None:
            raise BadFile(path, f"truncated MT940: statement {label} without closing balance :62F:")
        self.final = data.get("final_closing_balance") is not None
        self.opening = _balance(opening)
        self.closing = _balance(closing)
        self.transactions = list(tx)
        expected = len(re.findall(r"^:61:", block, re.M))
        if expected != len(self.transactions):
            raise BadFile(path, f"MT940 statement {label}: {expected} :61: lines but {len(self.transactions)} readable")


def parse_mt940(path: str, data: bytes) -> ParseResult:
    """Parse an MT940 file into one Statement per (possibly multi-page) statement."""
    blocks = split_statements(_decode(data))
    if not blocks:
        raise BadFile(path, "empty file")
    pages = [_Page(path, block, n) for n, block in enumerate(blocks, 1)]
    result = ParseResult(path=path, format="mt940")
    for page in pages:
        result.warnings.extend(page.warnings)
    current: Statement | None = None
    last: _Page | None = None
    for page in pages:
        continues = (
            last is not None and not last.final and last.account == page.account and last.number == page.number
        )
        if last is not None and not last.final and not continues:
            raise BadFile(path, f"truncated MT940: statement {last.number} page {last.page} ends with :62M: and no next page")
        if continues:
            if last.closing.amount != page.opening.amount:
                result.warnings.append(
                    f"statement {page.number}: page {page.page} opens with {page.opening.amount}, "
                    f"previous page closed with {last.closing.amount}"
                )
        else:
            current = Statement(
                id=page.reference,
                account=page.account,
                currency=page.opening.currency,
                kind="statement",
                opening=page.opening,
                sequence=page.number if page.page is None else f"{page.number}/{page.page}",
            )
            result.statements.append(current)
        current.closing = page.closing
        current.entries.extend(_entry(t.data, current.currency) for t in page.transactions)
        last = page
    if last is not None and not last.final:
        raise BadFile(path, f"truncated MT940: statement {last.number} without closing balance :62F:")
    result.warnings.extend(balance_warnings(result.statements))
    return result


def _entry(data: dict, currency: str | None) -> Entry:
    """One :61: line and its :86: text, as mt-940 parsed them."""
    mark = (data.get("status") or "").upper()
    amount = abs(data["amount"].amount)
    signed = amount if mark in ("C", "RD") else -amount
    entry_currency = data.get("currency") or currency or ""
    if "transaction_code" in data:
        detail = _structured_detail(data, signed, entry_currency)
    else:
        text = join_86(data.get("transaction_details"))
        detail = Detail(amount=signed, currency=entry_currency, text=text)
        read_86(text, detail)
    customer = (data.get("customer_reference") or "").strip()
    return Entry(
        amount=signed,
        currency=entry_currency,
        booked=_date(data.get("entry_date")) or _date(data.get("date")),
        value=_date(data.get("date")),
        status="BOOK",
        reversal=mark.startswith("R"),
        ref=_bank_ref(data),
        entry_ref=customer if customer and customer.upper() != "NONREF" else None,
        text=detail.text,
        bank_code=data.get("id"),
        details=[detail],
    )


def _bank_ref(data: dict) -> str | None:
    """The bank's reference (and its supplementary details), ``NONREF`` dropped."""
    refs = [
        r.strip()
        for r in (data.get("bank_reference"), data.get("extra_details"))
        if r and r.strip() and r.strip().upper() != "NONREF"
    ]
    return "/".join(refs) or None


def _structured_detail(data: dict, signed: Decimal, currency: str) -> Detail:
    """German structured :86: (?00 text, ?20-?29 purpose, ?31 account, ?32-?33
    name): mt-940 already split the subfields."""
    detail = Detail(
        amount=signed,
        currency=currency,
        text=" ".join(p for p in (data.get("posting_text"), data.get("purpose")) if p),
        payer=(data.get("applicant_name") or "").strip() or None,
        payer_account=(data.get("applicant_iban") or "").strip() or None,
        remittance=(data.get("purpose") or "").strip(),
    )
    # mt-940 glues ?31 (account) to the name when ?30 (bank code) is absent.
    glued = find_iban(detail.payer or "")
    if glued and glued[0] == 0 and detail.payer_account is None:
        detail.payer_account = glued[2]
        detail.payer = detail.payer[glued[1] :].strip() or None
    return detail


def join_86(raw: str | None) -> str:
    """Join the wrapped :86: lines without adding anything (mid-word wraps)."""
    if not raw:
        return ""
    return "".join(raw.replace("\r", "").split("\n")).strip()


def read_86(text: str, detail: Detail) -> None:
    """Fill payer / account / remittance from a joined :86: text, per bank layout."""
    upper = text.upper()
    if "AUFTRAGGEBER:" in upper or "MITTEILUNGEN:" in upper:
        payer_at = upper.find("AUFTRAGGEBER:")
        note_at = upper.find("MITTEILUNGEN:")
        if payer_at >= 0:
            end = note_at if note_at > payer_at else len(text)
            payer = _PF_TOKEN.sub("", text[payer_at + len("AUFTRAGGEBER:") : end]).strip()
            detail.payer = payer or None
        if note_at >= 0:
            detail.remittance = text[note_at + len("MITTEILUNGEN:") :].strip()
        return
    found = find_iban(text)
    if found:
        start, end, account = found
        detail.payer = text[:start].strip() or None
        detail.payer_account = account
        detail.remittance = text[end:].strip()
        return
    shaped = _IBAN_SHAPE.search(text)
    if shaped and shaped.start() > 0:
        # UBS layout with an account that fails the IBAN check: still split the
        # name from the remittance, but do not claim an account.
        detail.payer = text[: shaped.start()].strip() or None
        detail.remittance = text[shaped.end() :].strip()
        return
    detail.remittance = text


def find_iban(text: str) -> tuple[int, int, str] | None:
    """(start, end, IBAN) of the first valid IBAN in ``text``.

    The wrap join can glue the IBAN to the next word, so shorter prefixes of
    an IBAN-shaped run are tried too; only a check-digit-valid IBAN counts.
    """
    for match in _IBAN_SHAPE.finditer(text):
        run = match.group(0)
        for length in range(len(run), 14, -1):
            if iban_check.is_valid(run[:length]):
                return match.start(), match.start() + length, run[:length]
    return None
