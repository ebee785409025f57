"""Bank files for the demo ledger, written the way UBS writes them.

The demo books are built through the real import path, so its statements
must be real bank files: camt.053 (.001.04 and .001.08, valid by the ISO
20022 schemas), a camt.054 carrying the details of one batch, MT940 and the
UBS e-banking CSV export (English, German and French headers). This module
only renders: a month of bank entries (``MonthStatement``) in, bytes out.
What the entries are (who pays what, when) is decided by ``app.demo.build``.

Each format says what the real one can say and no more: MT940 and the CSV
export carry no instructed amount, exchange rate or deducted charges, so the
demo keeps foreign-currency receipts with charges in camt months.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from ledger import money

ZERO = Decimal("0.00")
ISU_IBAN = "CH4500240240FP1006276"
ISU_OWNER = "Centre international de deminage humanitaire - Geneve"
UBS_BIC = "UBSWCHZH80A"

# Bank transaction codes (ISO 20022 Domain / Family / Sub-family).
CODE_RECEIPT = ("PMNT", "RCDT", "XBCT")
CODE_DOMESTIC_RECEIPT = ("PMNT", "RCDT", "DMCT")
CODE_TRANSFER = ("PMNT", "ICDT", "DMCT")
CODE_FEE = ("ACMT", "MDOP", "CHRG")
CODE_INTEREST = ("ACMT", "MCOP", "INTR")


@dataclass(frozen=True)
class Party:
    """Who sent (or, for a debit, received) the money."""

    name: str
    account: str | None = None  # IBAN, or another account number
    country: str | None = None  # ISO alpha-2 of the postal address
    address: tuple[str, ...] = ()
    ultimate: str | None = None
    ultimate_country: str | None = None
    bic: str | None = None


@dataclass(frozen=True)
class Payment:
    """One underlying payment (a camt ``TxDtls``), amounts in CHF."""

    amount: Decimal  # CHF credited for it (net of its own deducted charges)
    party: Party | None
    remittance: str = ""
    instructed: tuple[Decimal, str] | None = None  # (amount, currency) the payer sent
    rate: Decimal | None = None  # CHF per unit of the instructed currency
    charges: Decimal | None = None  # deducted by the banks from this payment
    ref: str | None = None
    end_to_end: str | None = None


@dataclass
class BankEntry:
    """One line of the statement; ``amount`` is signed (credit positive)."""

    booked: datetime.date
    amount: Decimal
    ref: str
    code: tuple[str, str, str]
    text: str = ""  # AddtlNtryInf
    payments: list[Payment] = field(default_factory=list)
    reversal: bool = False
    batch: bool = False  # a collective booking (Btch/NbOfTxs)
    details_by_notification: bool = False  # the camt.053 leaves the details to a camt.054


@dataclass
class MonthStatement:
    """One monthly statement of the ISU account."""

    year: int
    month: int
    number: int  # electronic sequence number in the year
    opening: Decimal
    entries: list[BankEntry] = field(default_factory=list)
    iban: str = ISU_IBAN

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def last_day(self) -> datetime.date:
        nxt = datetime.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return nxt - datetime.timedelta(days=1)

    @property
    def closing(self) -> Decimal:
        return self.opening + sum((e.amount for e in self.entries), ZERO)

    @property
    def ident(self) -> str:
        return f"STMT-{self.year}-{self.month:02d}"

    def sorted_entries(self) -> list[BankEntry]:
        return sorted(self.entries, key=lambda e: (e.booked, e.ref))


def amount_text(value: Decimal) -> str:
    """The unsigned two-decimal amount bank files write (the sign is a field of its own)."""
    return money.text(abs(value))


# --- camt (ISO 20022 XML) ------------------------------------------------------


class _Camt:
    """Builds camt.053/054 elements in schema order for one version."""

    def __init__(self, message: str, version: str):
        self.version = version
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}"
        self.v08 = version == "08"

    def el(self, parent, tag: str, text: str | None = None, **attrs):
        node = etree.SubElement(parent, f"{{{self.ns}}}{tag}", {k: v for k, v in attrs.items()})
        if text is not None:
            node.text = text
        return node

    def amount(self, parent, tag: str, value: Decimal, currency: str = "CHF"):
        return self.el(parent, tag, amount_text(value), Ccy=currency)

    def sign(self, parent, value: Decimal) -> None:
        self.el(parent, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")

    def date(self, parent, tag: str, day: datetime.date) -> None:
        self.el(self.el(parent, tag), "Dt", day.isoformat())

    def code(self, parent, code: tuple[str, str, str]) -> None:
        domain = self.el(self.el(parent, "BkTxCd"), "Domn")
        self.el(domain, "Cd", code[0])
        family = self.el(domain, "Fmly")
        self.el(family, "Cd", code[1])
        self.el(family, "SubFmlyCd", code[2])

    def balance(self, parent, kind: str, value: Decimal, day: datetime.date) -> None:
        bal = self.el(parent, "Bal")
        self.el(self.el(self.el(bal, "Tp"), "CdOrPrtry"), "Cd", kind)
        self.amount(bal, "Amt", value)
        self.sign(bal, value)
        self.date(bal, "Dt", day)

    def account(self, parent, iban: str, owner: bool = True) -> None:
        acct = self.el(parent, "Acct")
        self.el(self.el(acct, "Id"), "IBAN", iban)
        self.el(acct, "Ccy", "CHF")
        if owner:
            self.el(self.el(acct, "Ownr"), "Nm", ISU_OWNER)
        self.el(self.el(self.el(acct, "Svcr"), "FinInstnId"), "BICFI", UBS_BIC)

    def party(self, parent, tag: str, who: Party, ultimate: bool = False) -> None:
        node = self.el(parent, tag)
        if self.v08:
            node = self.el(node, "Pty")
        name = who.ultimate if ultimate else who.name
        country = who.ultimate_country if ultimate else who.country
        self.el(node, "Nm", name[:140])
        if country or (who.address and not ultimate):
            adr = self.el(node, "PstlAdr")
            if country:
                self.el(adr, "Ctry", country)
            if not ultimate:
                for line in who.address[:2]:
                    self.el(adr, "AdrLine", line[:70])

    def party_account(self, parent, tag: str, account: str) -> None:
        ident = self.el(self.el(parent, tag), "Id")
        if re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", account):
            self.el(ident, "IBAN", account)
        else:
            self.el(self.el(ident, "Othr"), "Id", account[:34])

    def transaction(self, parent, entry: BankEntry, payment: Payment) -> None:
        """One ``TxDtls`` (credit: the payer is the debtor; debit: the creditor)."""
        credit = entry.amount > 0
        tx = self.el(parent, "TxDtls")
        refs = self.el(tx, "Refs")
        self.el(refs, "AcctSvcrRef", payment.ref or entry.ref)
        self.el(refs, "EndToEndId", payment.end_to_end or "NOTPROVIDED")
        self.amount(tx, "Amt", payment.amount)
        self.el(tx, "CdtDbtInd", "CRDT" if credit else "DBIT")
        if payment.instructed is not None and payment.instructed[1] != "CHF":
            details = self.el(tx, "AmtDtls")
            self.amount(self.el(details, "InstdAmt"), "Amt", payment.instructed[0], payment.instructed[1])
            tx_amount = self.el(details, "TxAmt")
            self.amount(tx_amount, "Amt", payment.amount + (payment.charges or ZERO))
            if payment.rate is not None:
                xchg = self.el(tx_amount, "CcyXchg")
                self.el(xchg, "SrcCcy", payment.instructed[1])
                self.el(xchg, "TrgtCcy", "CHF")
                self.el(xchg, "UnitCcy", payment.instructed[1])
                self.el(xchg, "XchgRate", str(payment.rate))
        if payment.charges:
            record = self.el(self.el(tx, "Chrgs"), "Rcrd")
            self.amount(record, "Amt", payment.charges)
            self.el(record, "CdtDbtInd", "DBIT")
            self.el(record, "ChrgInclInd", "true")
        who = payment.party
        if who is not None:
            parties = self.el(tx, "RltdPties")
            role, acct_role, ult_role = ("Dbtr", "DbtrAcct", "UltmtDbtr") if credit else ("Cdtr", "CdtrAcct", "UltmtCdtr")
            self.party(parties, role, who)
            if who.account:
                self.party_account(parties, acct_role, who.account)
            if who.ultimate:
                self.party(parties, ult_role, who, ultimate=True)
            if who.bic:
                agent = "DbtrAgt" if credit else "CdtrAgt"
                self.el(self.el(self.el(self.el(tx, "RltdAgts"), agent), "FinInstnId"), "BICFI", who.bic)
        if payment.remittance:
            info = self.el(tx, "RmtInf")
            text = payment.remittance
            while text:
                self.el(info, "Ustrd", text[:140])
                text = text[140:]

    def entry(self, parent, entry: BankEntry, with_details: bool = True) -> None:
        ntry = self.el(parent, "Ntry")
        self.amount(ntry, "Amt", entry.amount)
        self.sign(ntry, entry.amount)
        if entry.reversal:
            self.el(ntry, "RvslInd", "true")
        if self.v08:
            self.el(self.el(ntry, "Sts"), "Cd", "BOOK")
        else:
            self.el(ntry, "Sts", "BOOK")
        self.date(ntry, "BookgDt", entry.booked)
        self.date(ntry, "ValDt", entry.booked)
        self.el(ntry, "AcctSvcrRef", entry.ref)
        self.code(ntry, entry.code)
        if entry.payments:
            details = self.el(ntry, "NtryDtls")
            if entry.batch:
                self.el(self.el(details, "Btch"), "NbOfTxs", str(len(entry.payments)))
            if with_details:
                for payment in entry.payments:
                    self.transaction(details, entry, payment)
        if entry.text:
            self.el(ntry, "AddtlNtryInf", entry.text[:500])


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _created(day: datetime.date) -> str:
    return f"{day.isoformat()}T23:30:00"


def camt053(statement: MonthStatement, version: str = "08") -> bytes:
    """The month as a camt.053.001.<version> statement (04 or 08)."""
    c = _Camt("camt.053", version)
    root = etree.Element(f"{{{c.ns}}}Document", nsmap={None: c.ns})
    msg = c.el(root, "BkToCstmrStmt")
    head = c.el(msg, "GrpHdr")
    c.el(head, "MsgId", f"UBS-006276-{statement.year}{statement.month:02d}")
    c.el(head, "CreDtTm", _created(statement.last_day))
    stmt = c.el(msg, "Stmt")
    c.el(stmt, "Id", statement.ident)
    c.el(stmt, "ElctrncSeqNb", str(statement.number))
    c.el(stmt, "CreDtTm", _created(statement.last_day))
    period = c.el(stmt, "FrToDt")
    c.el(period, "FrDtTm", f"{statement.first_day.isoformat()}T00:00:00")
    c.el(period, "ToDtTm", f"{statement.last_day.isoformat()}T23:59:59")
    c.account(stmt, statement.iban)
    c.balance(stmt, "OPBD", statement.opening, statement.first_day - datetime.timedelta(days=1))
    c.balance(stmt, "CLBD", statement.closing, statement.last_day)
    for entry in statement.sorted_entries():
        c.entry(stmt, entry, with_details=not entry.details_by_notification)
    return _xml(root)


def camt054(statement: MonthStatement, entry: BankEntry, version: str = "08") -> bytes:
    """The camt.054 credit notification that details one (batch) entry."""
    c = _Camt("camt.054", version)
    root = etree.Element(f"{{{c.ns}}}Document", nsmap={None: c.ns})
    msg = c.el(root, "BkToCstmrDbtCdtNtfctn")
    head = c.el(msg, "GrpHdr")
    c.el(head, "MsgId", f"UBS-054-{entry.ref}")
    c.el(head, "CreDtTm", f"{entry.booked.isoformat()}T18:00:00")
    note = c.el(msg, "Ntfctn")
    c.el(note, "Id", f"NTF-{entry.ref}")
    c.el(note, "CreDtTm", f"{entry.booked.isoformat()}T18:00:00")
    c.account(note, statement.iban)
    c.entry(note, entry)
    return _xml(root)


# --- MT940 ---------------------------------------------------------------------


def _mt_amount(value: Decimal) -> str:
    return amount_text(value).replace(".", ",")


def _mt_balance(tag: str, value: Decimal, day: datetime.date) -> str:
    mark = "C" if value >= 0 else "D"
    return f":{tag}:{mark}{day:%y%m%d}CHF{_mt_amount(value)}"


def _wrap(text: str, width: int = 65, lines: int = 6) -> list[str]:
    """UBS wraps :86: at 65 characters, mid-word (the parser re-joins it)."""
    text = text[: width * lines]
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _mt_text(entry: BankEntry) -> str:
    if not entry.payments:
        return entry.text
    payment = entry.payments[0]
    who = payment.party
    parts = [who.name if who else "", who.account if who and who.account else "", payment.remittance or entry.text]
    return " ".join(p for p in parts if p)


def mt940(statement: MonthStatement) -> bytes:
    """The month as a UBS MT940 (one statement, one page, in a SWIFT envelope)."""
    lines = [
        "{1:F01UBSWCHZH80AXXX0000000000}{2:I940UBSWCHZH80AXN}{4:",
        f":20:UBS{statement.year}{statement.month:02d}",
        f":25:{statement.iban}",
        f":28C:{statement.number}/1",
        _mt_balance("60F", statement.opening, statement.first_day - datetime.timedelta(days=1)),
    ]
    for entry in statement.sorted_entries():
        if len(entry.payments) > 1 or entry.reversal:
            raise ValueError(f"{entry.ref}: MT940 cannot carry a batch or a reversal in the demo")
        mark = "C" if entry.amount > 0 else "D"
        kind = {CODE_FEE: "NCHG", CODE_INTEREST: "NINT"}.get(entry.code, "NTRF")
        lines.append(f":61:{entry.booked:%y%m%d%m%d}{mark}{_mt_amount(entry.amount)}{kind}NONREF//{entry.ref}")
        wrapped = _wrap(_mt_text(entry))
        lines.append(":86:" + wrapped[0])
        lines.extend(wrapped[1:])
    lines.append(_mt_balance("62F", statement.closing, statement.last_day))
    lines.append("-}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii", errors="replace")


# --- UBS e-banking CSV ---------------------------------------------------------------

_CSV = {
    "en": {
        "meta": ("Account number:", "IBAN:", "From:", "Until:", "Opening balance:", "Closing balance:",
                 "Valued in:", "Numbers of transactions in this period:"),
        "header": ("Trade date;Trade time;Booking date;Value date;Currency;Debit;Credit;Individual amount;"
                   "Balance;Transaction no.;Description1;Description2;Description3;Footnotes;"),
        "reason": "Reason for payment: ",
        "collective": ("Collective credit", "{n} payments"),
        "encoding": "utf-8-sig",
    },
    "de": {
        "meta": ("Kontonummer:", "IBAN:", "Von:", "Bis:", "Anfangssaldo:", "Schlusssaldo:", "Bewertet in:",
                 "Anzahl Transaktionen in diesem Zeitraum:"),
        "header": ("Abschlussdatum;Abschlusszeit;Buchungsdatum;Valutadatum;Währung;Belastung;Gutschrift;"
                   "Einzelbetrag;Saldo;Transaktions-Nr.;Beschreibung1;Beschreibung2;Beschreibung3;Fussnoten;"),
        "reason": "Zahlungsgrund: ",
        "collective": ("Sammelgutschrift", "{n} Zahlungen"),
        "encoding": "cp1252",
    },
    "fr": {
        "meta": ("Numéro de compte:", "IBAN:", "Du:", "Au:", "Solde initial:", "Solde final:", "Évalué en:",
                 "Nombre de transactions dans cette période:"),
        "header": ("Date de transaction;Heure de transaction;Date de comptabilisation;Date de valeur;Monnaie;"
                   "Débit;Crédit;Montant individuel;Solde;N° de transaction;Description1;Description2;"
                   "Description3;Notes de bas de page;"),
        "reason": "Motif du paiement: ",
        "collective": ("Crédit collectif", "{n} paiements"),
        "encoding": "utf-8",
    },
}


def _chf(value: Decimal) -> str:
    """UBS CSV amounts: apostrophe thousands separators, debits negative."""
    sign = "-" if value < 0 else ""
    return sign + money.grouped(abs(value)).replace(",", "'")


def _cell(text: str) -> str:
    return text.replace(";", ",").replace("\n", " ")


def _spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def ubs_csv(statement: MonthStatement, language: str = "en") -> bytes:
    """The month as a UBS e-banking CSV export in ``language`` (en, de, fr)."""
    spec = _CSV[language]
    meta = spec["meta"]
    entries = statement.sorted_entries()
    rows = [
        f"{meta[0]};0240-00627.01M;",
        f"{meta[1]};{_spaced(statement.iban)};",
        f"{meta[2]};{statement.first_day:%d.%m.%Y};",
        f"{meta[3]};{statement.last_day:%d.%m.%Y};",
        f"{meta[4]};{_chf(statement.opening)};",
        f"{meta[5]};{_chf(statement.closing)};",
        f"{meta[6]};CHF;",
        f"{meta[7]};{len(entries)};",
        "",
        spec["header"],
    ]
    running = statement.opening
    for entry in entries:
        running += entry.amount
        day = f"{entry.booked:%d.%m.%Y}"
        debit = _chf(entry.amount) if entry.amount < 0 else ""
        credit = _chf(entry.amount) if entry.amount > 0 else ""
        if entry.batch:
            label, count = spec["collective"]
            rows.append(f"{day};;{day};{day};CHF;{debit};{credit};;{_chf(running)};{entry.ref};{label};"
                        f"{count.format(n=len(entry.payments))};;;")
            for p in entry.payments:
                rows.append(";;;;CHF;;;" + _chf(p.amount) + ";;;" + ";".join(_csv_descriptions(p, spec)) + ";;")
            continue
        if entry.payments:
            d1, d2, d3 = _csv_descriptions(entry.payments[0], spec)
        else:
            d1, d2, d3 = "", "", _cell(entry.text)
        rows.append(f"{day};;{day};{day};CHF;{debit};{credit};;{_chf(running)};{entry.ref};{d1};{d2};{d3};;")
    text = "\r\n".join(rows) + "\r\n"
    return text.encode(spec["encoding"], errors="replace")


def _csv_descriptions(payment: Payment, spec: dict) -> tuple[str, str, str]:
    who = payment.party
    name = _cell(who.name) if who else ""
    where = _spaced(who.account) if who and who.account else (_cell(", ".join(who.address)) if who else "")
    reason = spec["reason"] + _cell(payment.remittance) if payment.remittance else ""
    return name, where, reason


# --- the GICHD expenditure workbook -------------------------------------------------------

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def reproducible_xlsx(content: bytes, stamp: datetime.date) -> bytes:
    """The same workbook with its timestamps fixed (zip entries, created/modified).

    openpyxl stamps the time of writing into the file; a demo built twice
    must archive byte-identical reports, so the stamps become ``stamp``.
    """
    when = f"{stamp.isoformat()}T12:00:00Z".encode("ascii")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(lambda m: m.group(1) + when + m.group(3), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)
    return out.getvalue()
