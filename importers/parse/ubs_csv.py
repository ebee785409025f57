"""UBS e-banking CSV export (English, German and French headers).

No public sample exists; the layout below is the one several independent
parsers agree on:

* ``;``-separated; metadata lines first (``Account number:;...``,
  ``IBAN:;...``, ``From:``, ``Until:``, ``Opening balance:``,
  ``Closing balance:``, ``Valued in:``, number of transactions), a blank
  line, then the header row (13 named columns plus a trailing ``;``).
* Dates ``dd.mm.yyyy`` (ISO accepted); amounts with ``.`` decimals and
  optional ``'`` thousands separators; debits already negative.
* A collective order is one row with ``Debit``/``Credit`` and no
  ``Individual amount``, followed by rows that carry only the ``Individual
  amount`` and descriptions: one Entry with one Detail per such row.
* Encoding: UTF-8 (with or without BOM), else cp1252 (the Windows export).

Assumptions on the descriptions (the CSV has no structured party fields):
``Description1`` is the counterparty name, ``Description2`` its address or
account (an IBAN found there becomes ``payer_account``), ``Description3`` the
remittance, often prefixed ``Reason for payment:``/``Zahlungsgrund:``/
``Motif du paiement:`` (the prefix is dropped). All three are also kept
verbatim in ``Detail.text``. The opening balance is dated the day before
``From`` (as camt's OPBD is), the closing balance ``Until``.
Prefer camt.053 when both exist.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal, InvalidOperation

from importers.model import Balance, BadFile, Detail, Entry, ParseResult, Statement
from importers.parse.mt940 import find_iban
from importers.parse.serialize import balance_warnings

COLUMNS = (
    "trade_date", "trade_time", "booking_date", "value_date", "currency", "debit", "credit",
    "individual", "balance", "transaction_no", "description1", "description2", "description3",
    "footnotes",
)
HEADERS = {
    "en": ("Trade date", "Trade time", "Booking date", "Value date", "Currency", "Debit", "Credit",
           "Individual amount", "Balance", "Transaction no.", "Description1", "Description2",
           "Description3", "Footnotes"),
    "de": ("Abschlussdatum", "Abschlusszeit", "Buchungsdatum", "Valutadatum", "Währung", "Belastung",
           "Gutschrift", "Einzelbetrag", "Saldo", "Transaktions-Nr.", "Beschreibung1", "Beschreibung2",
           "Beschreibung3", "Fussnoten"),
    "fr": ("Date de transaction", "Heure de transaction", "Date de comptabilisation", "Date de valeur",
           "Monnaie", "Débit", "Crédit", "Montant individuel", "Solde", "N° de transaction",
           "Description1", "Description2", "Description3", "Notes de bas de page"),
}
_METADATA = {
    "account": ("account number", "kontonummer", "numéro de compte"),
    "iban": ("iban",),
    "from": ("from", "von", "du", "de"),
    "until": ("until", "bis", "au", "jusqu'au"),
    "opening": ("opening balance", "anfangssaldo", "solde initial", "solde d'ouverture"),
    "closing": ("closing balance", "schlusssaldo", "solde final", "solde de clôture"),
    "currency": ("valued in", "bewertet in", "évalué en"),
    "count": ("numbers of transactions in this period", "number of transactions in this period",
              "anzahl transaktionen in diesem zeitraum", "nombre de transactions dans cette période"),
}
_REASON = re.compile(r"^(reason for payment|zahlungsgrund|motif du paiement)\s*:\s*", re.I)


def looks_like_ubs_csv(text: str) -> bool:
    """True when one of the three header rows is present."""
    return any(";".join(h[:3]) in text for h in HEADERS.values())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _Reader:
    def __init__(self, path: str):
        self.path = path

    def amount(self, text: str, where: str) -> Decimal | None:
        cleaned = re.sub(r"[\s'’]", "", text or "")
        if not cleaned:
            return None
        if "," in cleaned and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise BadFile(self.path, f"{where}: amount {text!r} is not a number") from None
        if not value.is_finite():
            raise BadFile(self.path, f"{where}: amount {text!r} is not a number")
        return value

    def date(self, text: str, where: str) -> datetime.date | None:
        text = (text or "").strip()
        if not text:
            return None
        try:
            if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
                day, month, year = (int(p) for p in text.split("."))
                return datetime.date(year, month, day)
            return datetime.date.fromisoformat(text[:10])
        except ValueError:
            raise BadFile(self.path, f"{where}: {text!r} is not a date") from None


def parse_ubs_csv(path: str, data: bytes) -> ParseResult:
    """Parse a UBS CSV export into one Statement."""
    rows = _rows(path, data)
    header_at = _header_row(path, rows)
    reader = _Reader(path)
    meta = _metadata(rows[:header_at])
    stmt = _statement(reader, meta)
    for number, row in enumerate(rows[header_at + 1 :], header_at + 2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(COLUMNS, (c.strip() for c in row + [""] * len(COLUMNS)), strict=False))
        _add_row(reader, stmt, cells, f"line {number}")
    if stmt.currency is None and stmt.entries:
        stmt.currency = stmt.entries[0].currency
    result = ParseResult(path=path, format="ubs-csv", statements=[stmt])
    count = meta.get("count")
    if count and count.isdigit() and int(count) != len(stmt.entries):
        result.warnings.append(f"the export announces {count} transactions but holds {len(stmt.entries)}")
    result.warnings.extend(balance_warnings([stmt]))
    return result


def _rows(path: str, data: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(_decode(data)), delimiter=";"))
    except csv.Error as exc:  # e.g. a bare carriage return inside an unquoted field
        raise BadFile(path, f"not readable as CSV: {exc}") from exc


def _header_row(path: str, rows: list[list[str]]) -> int:
    """Where the header row is; it must be one of the known languages' in full."""
    header_at = next(
        (i for i, row in enumerate(rows) if row and any(row[0].strip() == h[0] for h in HEADERS.values())),
        None,
    )
    if header_at is None:
        raise BadFile(path, "not a UBS CSV export: no header row (Trade date;Trade time;...)")
    header = [c.strip() for c in rows[header_at]]
    if not any(header[: len(h)] == list(h) for h in HEADERS.values()):
        raise BadFile(path, f"unknown UBS CSV header: {';'.join(header[:14])}")
    return header_at


def _statement(reader: _Reader, meta: dict[str, str]) -> Statement:
    """The statement the metadata lines describe: account, period, balances; no entries yet."""
    currency = meta.get("currency")
    stmt = Statement(
        id=None,
        account=(meta.get("iban") or meta.get("account") or "").replace(" ", "") or None,
        currency=currency,
        kind="statement",
    )
    start = reader.date(meta.get("from", ""), "From")
    until = reader.date(meta.get("until", ""), "Until")
    stmt.period = (start, until) if start or until else None
    opening = reader.amount(meta.get("opening", ""), "Opening balance")
    closing = reader.amount(meta.get("closing", ""), "Closing balance")
    if opening is not None and start is not None:
        stmt.opening = Balance(start - datetime.timedelta(days=1), opening, currency or "")
    if closing is not None and until is not None:
        stmt.closing = Balance(until, closing, currency or "")
    if start and until:
        stmt.id = f"{stmt.account}/{start.isoformat()}/{until.isoformat()}"
    return stmt


def _metadata(rows: list[list[str]]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for row in rows:
        if len(row) < 2:
            continue
        key = row[0].strip().rstrip(":").strip().lower()
        for name, keys in _METADATA.items():
            if key in keys and name not in meta:
                meta[name] = row[1].strip()
    return meta


def _add_row(reader: _Reader, stmt: Statement, cells: dict[str, str], where: str) -> None:
    debit = reader.amount(cells["debit"], where)
    credit = reader.amount(cells["credit"], where)
    individual = reader.amount(cells["individual"], where)
    if debit is None and credit is None:
        if individual is not None:
            _add_individual(reader, stmt, cells, individual, where)
        return  # else a pure text line (footnote): it carries no money
    if debit is not None and credit is not None and debit != 0 and credit != 0:
        raise BadFile(reader.path, f"{where}: both debit and credit are filled")
    amount = -abs(debit) if debit else abs(credit or Decimal(0))
    booked = reader.date(cells["booking_date"], where) or reader.date(cells["trade_date"], where)
    if booked is None:
        raise BadFile(reader.path, f"{where}: no booking date")
    entry = Entry(
        amount=amount,
        currency=cells["currency"] or stmt.currency or "",
        booked=booked,
        value=reader.date(cells["value_date"], where),
        status="BOOK",
        ref=cells["transaction_no"] or None,
        text=" ".join(p for p in (cells["description1"], cells["description2"], cells["description3"]) if p),
    )
    entry.details.append(_detail(cells, amount, entry.currency))
    stmt.entries.append(entry)


def _add_individual(reader: _Reader, stmt: Statement, cells: dict[str, str], individual: Decimal, where: str) -> None:
    """A row with only an individual amount: one payment of the collective order before it."""
    if not stmt.entries:
        raise BadFile(reader.path, f"{where}: individual amount without a collective order before it")
    entry = stmt.entries[-1]
    if entry.batch_count is None:
        # The row before was the collective order itself: its own
        # descriptions describe the order, the rows that follow the payments.
        entry.batch_count, entry.details = 0, []
    sign = Decimal(1) if entry.amount >= 0 else Decimal(-1)
    entry.details.append(_detail(cells, sign * abs(individual), cells["currency"] or entry.currency))
    entry.batch_count += 1


def _detail(cells: dict[str, str], amount: Decimal, currency: str) -> Detail:
    found = find_iban(cells["description2"].replace(" ", "")) or find_iban(cells["description1"].replace(" ", ""))
    return Detail(
        amount=amount,
        currency=currency,
        payer=cells["description1"] or None,
        payer_account=found[2] if found else None,
        payer_address=cells["description2"] or None,
        remittance=_REASON.sub("", cells["description3"]).strip(),
        text="; ".join(p for p in (cells["description1"], cells["description2"], cells["description3"]) if p),
    )
