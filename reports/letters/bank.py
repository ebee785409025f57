"""The bank details States are asked to pay to (the ISU's published
instructions): the account held by the GICHD at UBS Geneva for the ISU.

The IBAN is the ledger's own (metadata ``iban`` of the bank account's
``open`` directive, set by ``isu-ledger init --iban``); the rest is the
published text, which the letter templates may word differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from beancount.core import data

from ledger import conventions
from ledger.books import DEFAULT_IBAN

OWNER = "Centre international de déminage humanitaire – Genève"
ACCOUNT = "FP 100 627.6"
SWIFT = "UBSWCHZH80A"
BANK = "UBS Geneva"
ADDRESS = "P.O. Box 2600, CH-1211 Geneva, Switzerland"


@dataclass(frozen=True)
class BankDetails:
    owner: str
    account: str
    iban: str  # printed in groups of four
    swift: str
    bank: str
    address: str


def grouped_iban(iban: str) -> str:
    """``CH4500240240FP1006276`` -> ``CH45 0024 0240 FP10 0627 6``."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def bank_details(entries: list) -> BankDetails:
    """The ISU's bank details, with the IBAN of the ledger's bank account."""
    iban = DEFAULT_IBAN
    for entry in entries:
        if isinstance(entry, data.Open) and entry.account == conventions.BANK:
            iban = str((entry.meta or {}).get(conventions.META_IBAN) or DEFAULT_IBAN)
            break
    account = ACCOUNT if "".join(iban.split()).upper() == DEFAULT_IBAN else ""
    return BankDetails(owner=OWNER, account=account, iban=grouped_iban(iban), swift=SWIFT, bank=BANK, address=ADDRESS)
