"""``isu-ledger init``: a new ledger directory with the ISU chart of accounts.

The layout is the one of docs/booking.md: ``main.beancount`` (options,
plugins, includes), ``accounts.beancount`` (every account of
``ledger.conventions``, CHF only, opened 2000-01-01), ``txns/YYYY.beancount``,
the registry files and ``documents/``. The directory is a git repository
from its first minute, so the very first state of the books is on record.

Entries are rendered with Beancount's printer (through the writer's
``render_entry``); only the static header of main.beancount is literal text.
"""

from __future__ import annotations

import datetime
import importlib.resources
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from beancount.core import amount, data
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from ledger import conventions, money
from ledger.store import gitrepo
from ledger.store.writer import atomic_write, render_entries, year_file_header

DEFAULT_IBAN = "CH4500240240FP1006276"  # UBS Geneva, held by the GICHD for the ISU
OPEN_DATE = datetime.date(2000, 1, 1)
TITLE = "ISU — APMBC Implementation Support Unit"
RULES_HEADER = "payer_account,payer_name,state_party,work_plan,created_by,created_at,note\n"

MAIN_TEXT = f"""\
; The ISU contributions ledger: the root file Fava and bean-check open.
; Written by isu-ledger init. Entries live in the included files.
option "title" "{TITLE}"
option "operating_currency" "{conventions.CURRENCY}"

plugin "ledger.plugins.isu_rules"
plugin "ledger.plugins.year_lock"

include "{conventions.ACCOUNTS_FILE}"
include "{conventions.TXN_DIR}/*.beancount"
"""

GITIGNORE_TEXT = f"""\
# isu-ledger working files: never part of the books
{conventions.LOCK_FILE}
{conventions.JOURNAL_FILE}
.isu-tmp-*
.isu-secret
.*.picklecache
__pycache__/
*.sqlite
*.sqlite3
*.sqlite-journal
*.sqlite-wal
*.sqlite-shm
"""

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


class InitRefused(Exception):
    """``init`` cannot create the ledger; ``str()`` is ``<path or value>: problem``."""


def normalise_iban(iban: str) -> str:
    """The IBAN without spaces, upper case, if ``stdnum.iban`` finds it valid.

    Valid: the ISO 13616 check digits and the country's IBAN length and
    format. The national bank-code checks are left out: stdnum's bank lists
    do not know every bank.
    """
    compact = re.sub(r"\s+", "", iban or "").upper()
    if not _IBAN_SHAPE.match(compact):
        raise InitRefused(f"{iban}: not an IBAN (two letters, two check digits, up to 30 letters/digits)")
    try:
        stdnum_iban.validate(compact, check_country=False)
    except InvalidChecksum:
        raise InitRefused(f"{iban}: IBAN check digits are wrong") from None
    except InvalidComponent:
        raise InitRefused(f"{iban}: not an IBAN (no IBANs in country {compact[:2]})") from None
    except ValidationError:
        raise InitRefused(f"{iban}: not an IBAN of {compact[:2]} (wrong length or format)") from None
    return compact


def parse_amount(text: str | Decimal) -> Decimal:
    """A CHF amount with at most two decimals (``612408.15``, ``-12.5``, ``0``)."""
    try:
        return money.parse(text, allow_negative=True, allow_zero=True)
    except ValueError as exc:
        raise InitRefused(f"--opening-balance {exc}") from None


def parse_date(text: str | datetime.date) -> datetime.date:
    if isinstance(text, datetime.date):
        return text
    try:
        return datetime.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InitRefused(f"{text}: not a date (YYYY-MM-DD)") from None


def _meta(**values) -> dict:
    return data.new_metadata("<isu-ledger init>", 0, values or None)


def chart_of_accounts(iban: str) -> list[data.Open]:
    """Every account of ``ledger.conventions``, opened on OPEN_DATE in CHF."""
    names = [conventions.BANK, conventions.GICHD_CLEARING, conventions.UNRECONCILED, conventions.ADVANCE]
    names += [conventions.contribution_account(wp) for wp in conventions.WORK_PLANS]
    names += [conventions.UNIDENTIFIED, conventions.INTEREST, conventions.BANK_CHARGES]
    names += [f"{conventions.EXPENSES}:{line}" for line in conventions.BUDGET_LINES]
    names += [conventions.FUND_BALANCE, conventions.BUFFER, conventions.OPENING]
    opens = []
    for name in dict.fromkeys(names):
        meta = _meta(**{conventions.META_IBAN: iban}) if name == conventions.BANK else _meta()
        opens.append(data.Open(meta, OPEN_DATE, name, [conventions.CURRENCY], None))
    return opens


def opening_entries(balance: Decimal, as_of: datetime.date) -> list:
    """The opening balance (Opening-Balances -> bank) on ``as_of`` and its
    balance assertion on the next day (the bank's closing-balance rule)."""
    units = amount.Amount(balance, conventions.CURRENCY)
    txn = data.Transaction(
        _meta(),
        as_of,
        "*",
        None,
        f"Opening balance of the ISU account as of {as_of.isoformat()}",
        data.EMPTY_SET,
        data.EMPTY_SET,
        [
            data.Posting(conventions.BANK, units, None, None, None, None),
            data.Posting(conventions.OPENING, -units, None, None, None, None),
        ],
    )
    check = data.Balance(_meta(), as_of + datetime.timedelta(days=1), conventions.BANK, units, None, None)
    return [txn, check]


@dataclass(frozen=True)
class InitResult:
    ledger_dir: Path
    iban: str
    commit: str


def _packaged_registry() -> bytes:
    resource = importlib.resources.files("ledger") / "data" / "contributors.csv"
    return resource.read_bytes()


def init_ledger(
    ledger_dir: Path | str,
    iban: str = DEFAULT_IBAN,
    opening_balance: Decimal | str | None = None,
    as_of: datetime.date | str | None = None,
    user: str = "isu-ledger",
) -> InitResult:
    """Create a new ledger in ``ledger_dir`` and commit it. Refuses (InitRefused)
    a directory that already holds a ledger or anything else, a bad IBAN, and
    an opening balance without its date (or the reverse)."""
    ledger_dir = Path(ledger_dir).absolute()
    iban = normalise_iban(iban)
    opening = _opening(opening_balance, as_of)
    if (ledger_dir / conventions.MAIN_FILE).exists() or (ledger_dir / ".git").exists():
        raise InitRefused(f"{ledger_dir}: already holds a ledger")
    if ledger_dir.exists() and (not ledger_dir.is_dir() or any(ledger_dir.iterdir())):
        raise InitRefused(f"{ledger_dir}: exists and is not an empty directory")
    files = _ledger_files(iban, opening)
    desc = f"opening balance {opening[0]} {conventions.CURRENCY} as of {opening[1]}" if opening else "no opening balance"
    message = f"init ledger ({desc})\n\nUser: {user}\nAction: init\nIBAN: {iban}\n"

    created = not ledger_dir.exists()
    ledger_dir.mkdir(parents=True, exist_ok=True)
    try:
        gitrepo.init(ledger_dir)
        for rel, content in files.items():
            atomic_write(ledger_dir / rel, content)
        gitrepo.add(ledger_dir, sorted(files))
        sha = gitrepo.commit(ledger_dir, message, user)
    except BaseException:
        _remove_written(ledger_dir, created)
        raise
    return InitResult(ledger_dir=ledger_dir, iban=iban, commit=sha)


def _opening(opening_balance: Decimal | str | None, as_of: datetime.date | str | None) -> tuple[Decimal, datetime.date] | None:
    """The opening balance and its date, both or neither."""
    if (opening_balance is None) != (as_of is None):
        raise InitRefused("--opening-balance: needs --as-of DATE (and --as-of needs --opening-balance)")
    if opening_balance is None or as_of is None:
        return None
    balance = parse_amount(opening_balance)
    as_of_date = parse_date(as_of)
    if as_of_date < OPEN_DATE:
        raise InitRefused(f"{as_of_date}: the ledger starts on {OPEN_DATE}")
    return balance, as_of_date


def _ledger_files(iban: str, opening: tuple[Decimal, datetime.date] | None) -> dict[str, bytes]:
    """Every file of a new ledger, by path relative to its directory."""
    files: dict[str, bytes] = {
        conventions.MAIN_FILE: MAIN_TEXT.encode("utf-8"),
        conventions.ACCOUNTS_FILE: (
            "; The ISU chart of accounts (written by isu-ledger init).\n\n"
            + render_entries(chart_of_accounts(iban))
        ).encode("utf-8"),
        conventions.REGISTRY_FILE: _packaged_registry(),
        conventions.RULES_FILE: RULES_HEADER.encode("utf-8"),
        f"{conventions.DOCUMENTS_DIR}/.keep": b"",
        ".gitignore": GITIGNORE_TEXT.encode("utf-8"),
    }
    by_year: dict[int, list] = {}
    if opening is not None:
        for entry in opening_entries(*opening):
            by_year.setdefault(entry.date.year, []).append(entry)
    else:
        # The glob include must match a file, or Beancount reports an error.
        by_year[datetime.date.today().year] = []
    for year, entries in sorted(by_year.items()):
        text = year_file_header(year) + ("\n" + render_entries(entries) if entries else "")
        files[f"{conventions.TXN_DIR}/{year}.beancount"] = text.encode("utf-8")
    return files


def _remove_written(ledger_dir: Path, created: bool) -> None:
    """Undo a failed init: the directory if init created it, else its content
    (it was empty before)."""
    if created:
        shutil.rmtree(ledger_dir, ignore_errors=True)
        return
    for child in ledger_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
