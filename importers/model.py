"""The normalised content of a bank file, whatever its format.

Every parser (camt.05x, MT940, UBS CSV) produces these records and nothing
else; identification and booking work only on them. Amounts are ``Decimal``
(never float). Entry amounts are signed: credits positive, debits negative,
the sign coming from the bank's credit/debit mark only (a reversal flag never
flips it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.money import cents


class BadFile(Exception):
    """A bank file that cannot be used. ``str()`` is the one-line message.

    ``path`` names the file, ``problem`` says what is wrong with it.
    """

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Balance:
    date: datetime.date
    amount: Decimal  # signed
    currency: str


@dataclass
class Detail:
    """One underlying transaction (camt ``TxDtls``; MT940/CSV: one per entry).

    ``amount`` is unsigned-as-the-entry: it carries the entry's sign, in
    ``currency`` which may differ from the entry's (then never summed
    against it). ``None`` when the bank gave no detail amount.
    """

    amount: Decimal | None = None
    currency: str | None = None
    payer: str | None = None  # Dbtr name (credits) or Cdtr name (debits)
    payer_account: str | None = None  # DbtrAcct IBAN/Othr (credits), CdtrAcct (debits)
    payer_country: str | None = None  # ISO alpha-2 from PstlAdr/Ctry
    payer_address: str | None = None  # address lines joined, for evidence
    ultimate_payer: str | None = None  # UltmtDbtr (credits) / UltmtCdtr (debits)
    ultimate_payer_country: str | None = None
    counterparty_bic: str | None = None
    remittance: str = ""  # Ustrd lines joined (trimmed); MT940 :86: remittance
    reference: str | None = None  # structured creditor reference (QRR/SCOR/ISR/...)
    reference_type: str | None = None  # "QRR", "SCOR", "ISR Reference", ...
    reference_valid: bool | None = None  # check digits, when the type has them
    end_to_end_id: str | None = None
    detail_ref: str | None = None  # TxDtls/Refs/AcctSvcrRef (can repeat!)
    instructed: Money | None = None  # AmtDtls/InstdAmt
    rate: Decimal | None = None  # CcyXchg/XchgRate as given
    rate_unit: str | None = None  # CcyXchg/UnitCcy
    rate_source: str | None = None  # CcyXchg/SrcCcy
    rate_target: str | None = None  # CcyXchg/TrgtCcy
    charges: Decimal | None = None  # charges deducted from this amount (ChrgInclInd true)
    charges_info: Decimal | None = None  # charges not deducted (informational)
    return_reason: str | None = None  # RtrInf/Rsn/Cd
    bank_code: str | None = None  # BkTxCd Domn/Fmly/SubFmly as "PMNT/RCDT/XBCT"
    text: str = ""  # free text the parser could not split (MT940 :86:, CSV descriptions)


@dataclass
class Entry:
    """One booking line of the statement (camt ``Ntry``, MT940 ``:61:``)."""

    amount: Decimal  # signed, in ``currency``
    currency: str
    booked: datetime.date | None
    value: datetime.date | None
    status: str  # "BOOK", "PDNG", "INFO"
    reversal: bool = False
    ref: str | None = None  # Ntry/AcctSvcrRef, MT940 // bank reference: the dedup key
    entry_ref: str | None = None  # Ntry/NtryRef
    text: str = ""  # Ntry/AddtlNtryInf: the only text when there are no details
    bank_code: str | None = None
    batch_count: int | None = None  # Btch/NbOfTxs
    charges: Decimal | None = None  # entry-level charges deducted (ChrgInclInd true)
    details: list[Detail] = field(default_factory=list)

    @property
    def is_booked(self) -> bool:
        return self.status == "BOOK"


@dataclass
class Statement:
    """One statement, notification or report of one account."""

    id: str | None
    account: str | None  # IBAN, else Othr/Id or MT940 :25:
    currency: str | None
    kind: str  # "statement" (053/MT940/CSV), "notification" (054), "report" (052)
    opening: Balance | None = None  # OPBD / :60F:
    closing: Balance | None = None  # CLBD / :62F:
    entries: list[Entry] = field(default_factory=list)
    sequence: str | None = None  # ElctrncSeqNb / :28C:
    copy: str | None = None  # CpyDplctInd
    created: datetime.datetime | None = None
    period: tuple[datetime.date | None, datetime.date | None] | None = None

    @property
    def balance_ok(self) -> bool | None:
        """opening + booked entries == closing, to the cent (a bank that writes
        balances with more decimals is compared at what money is: cents);
        None when the file has no balances."""
        if self.opening is None or self.closing is None:
            return None
        total = self.opening.amount + sum(
            (e.amount for e in self.entries if e.is_booked), Decimal(0)
        )
        return cents(total) == cents(self.closing.amount)

    @property
    def booked_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.is_booked]


@dataclass
class ParseResult:
    path: str
    format: str  # "camt.053.001.08", "mt940", "ubs-csv"
    statements: list[Statement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""  # of the file's bytes
