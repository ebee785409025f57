"""Names the whole product agrees on: accounts, metadata keys, tags, files.

Every module that reads or writes the books takes its names from here, so the
chart of accounts, the plugins, the importers and the reports cannot drift
apart. Changing a name here is a change of the ledger format.
"""

from __future__ import annotations

import re

# --- The ledger directory -------------------------------------------------
MAIN_FILE = "main.beancount"  # root file opened by Fava and bean-check
ACCOUNTS_FILE = "accounts.beancount"  # chart of accounts (open directives)
TXN_DIR = "txns"  # one file per calendar year: txns/2025.beancount
DOCUMENTS_DIR = "documents"  # archived bank statement files
REGISTRY_DIR = "registry"  # staff-editable data
REGISTRY_FILE = "registry/contributors.csv"  # States Parties and other contributors
RULES_FILE = "registry/rules.csv"  # learned matching rules (payer -> State)
LOCK_FILE = ".isu-ledger.lock"  # the writer's lock (git-ignored)
JOURNAL_FILE = ".isu-journal.json"  # the writer's crash journal (git-ignored)

# --- The chart of accounts --------------------------------------------------
CURRENCY = "CHF"
BANK = "Assets:Bank:UBS:CHF"
GICHD_CLEARING = "Assets:Clearing:GICHD"
UNRECONCILED = "Assets:Clearing:Unreconciled"  # debits/credits not yet explained
ADVANCE = "Liabilities:Contributions:ReceivedInAdvance"
CONTRIBUTIONS = "Income:Contributions"  # parent: one child per work plan
UNIDENTIFIED = "Income:Contributions:Unidentified"  # suspense: the review queue
INTEREST = "Income:Interest"
BANK_CHARGES = "Expenses:Bank:Charges"
EXPENSES = "Expenses:Budget"  # parent: one child per budget line
FUND_BALANCE = "Equity:FundBalance"
BUFFER = "Equity:Reserves:FinancialSecurityBuffer"
OPENING = "Equity:Opening-Balances"

# Work plans: metadata value -> income account leaf.
WORK_PLANS = {"core": "Core"}
DEFAULT_WORK_PLAN = "core"

# Budget lines of the ISU work plan (leaf names under Expenses:Budget).
BUDGET_LINES = (
    "Staff",
    "Travel",
    "Meetings",
    "Communications",
    "GICHDServices",
    "Other",
)


def contribution_account(work_plan: str) -> str:
    """The income account for a work plan ("core" -> Income:Contributions:Core)."""
    leaf = WORK_PLANS.get(work_plan) or work_plan.capitalize()
    return f"{CONTRIBUTIONS}:{leaf}"


def is_contribution_account(account: str) -> bool:
    """An attributed-contribution account: income by work plan, or the deferral."""
    if account == ADVANCE:
        return True
    return account.startswith(CONTRIBUTIONS + ":") and account != UNIDENTIFIED


# --- Metadata keys --------------------------------------------------------
META_STATE_PARTY = "state_party"  # ISO 3166-1 alpha-3
META_WORK_PLAN = "work_plan"  # e.g. "core"
META_WP_YEAR = "wp_year"  # int (Decimal in beancount meta: we write Decimal)
META_DESIGNATED_YEAR = "designated_year"  # late payment for a signed-off year
META_BANK_REF = "bank_ref"  # Ntry/AcctSvcrRef (transaction) - dedup key
META_DETAIL_REF = "detail_ref"  # TxDtls reference, when distinct
META_STATEMENT = "statement"  # documents/... path of the archived file
META_ACCOUNT = "bank_account"  # IBAN of the statement account (dedup key part)
META_PAYER = "payer"
META_PAYER_ACCOUNT = "payer_account"
META_ULTIMATE_PAYER = "ultimate_payer"
META_REMITTANCE = "remittance"
META_INSTRUCTED = "instructed"  # "100000.00 EUR"
META_RATE = "rate"
META_CHARGES = "charges"
META_WHY = "why"  # why the importer attributed this (rule, score)
META_CONFIDENCE = "confidence"
META_SUGGEST_CONFLICT = "suggest_conflict"  # why the payer's own account contradicts the suggestion
META_REVERSAL_OF = "reversal_of"  # bank_ref of the reversed original
META_IBAN = "iban"  # on the bank account's open directive

TAG_PREFIX = "ISU-"  # transactions carry #ISU-<wp_year>
LINK_PREFIX = "bank-"  # ^bank-<sanitised AcctSvcrRef>

_LINK_BAD = re.compile(r"[^A-Za-z0-9\-_/.]")


def year_tag(wp_year: int) -> str:
    return f"{TAG_PREFIX}{int(wp_year)}"


def bank_link(bank_ref: str) -> str:
    """A Beancount link from a bank reference (links allow [A-Za-z0-9-_/.])."""
    return LINK_PREFIX + _LINK_BAD.sub("-", bank_ref)


# --- Custom directives ----------------------------------------------------
CUSTOM_LOCK = "isu-sign-off"  # custom "isu-sign-off" YEAR "auditor" opinion_date "fingerprint"
CUSTOM_BUDGET = "budget"  # Fava-compatible: custom "budget" Account "yearly" Amount
CUSTOM_BUFFER_POLICY = "isu-buffer-policy"
CUSTOM_PLEDGE = "isu-pledge"

# --- Transactions that are not bank receipts --------------------------------
# Transaction metadata naming what a non-bank transaction is, so the rules
# plugin can let it omit ``bank_ref`` (and, for "recognition", move deferred
# contributions into income of their work-plan year).
META_KIND = "isu_kind"
KINDS = ("recognition", "close", "closing", "correction", "opening", "pledge", "manual", "expenditure", "buffer")
# A closing transaction moves a closed year's income and expenditure (and
# the opening balances) into the fund balance, so that the equity accounts
# say what the financial statements say. It is bookkeeping, not activity:
# every sum of income or expenditure leaves it out (``is_closing``).
CLOSING = "closing"
TAG_CLOSING = "isu-closing"


def is_closing(entry) -> bool:
    """A year-end closing transaction (see ``CLOSING``)."""
    return (getattr(entry, "meta", None) or {}).get(META_KIND) == CLOSING

# --- Year end and decisions ---------------------------------------------------
CUSTOM_YEAR_CLOSED = "isu-year-closed"  # custom "isu-year-closed" YEAR, figures as metadata
META_DECISION = "decision"  # the decision a budget, buffer move or policy cites
META_DECIDED = "decided"  # date of that decision (budget revisions are ordered by it)
META_CLOSES_YEAR = "closes_year"  # on year-end transactions: the year they close
