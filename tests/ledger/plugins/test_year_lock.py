"""ledger.plugins.year_lock and ledger.fingerprint: a signed-off year is frozen.

The ledgers under test are written as text and loaded through Beancount's
loader with the plugin line, as ``bean-check`` and Fava load them. A sign-off
is made the way ``isu-ledger sign-off`` makes it: fingerprint the loaded
books, then add the ``custom "isu-sign-off"`` directive.
"""

from __future__ import annotations

import datetime
import random
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import amount, data
from beancount.parser import printer

from ledger import conventions
from ledger import fingerprint as fp
from ledger.plugins import year_lock

HEADER = """\
plugin "ledger.plugins.isu_rules"
plugin "ledger.plugins.year_lock"

2000-01-01 open Assets:Bank:UBS:CHF
2000-01-01 open Equity:Opening-Balances
2000-01-01 open Expenses:Bank:Charges
2000-01-01 open Income:Contributions:Core
"""

BOOKS = """
2025-01-01 pad Assets:Bank:UBS:CHF Equity:Opening-Balances
2025-01-02 balance Assets:Bank:UBS:CHF  1000.00 CHF

2025-01-29 * "FEDERAL FOREIGN OFFICE" "ISU 2025 Core Work Plan" #ISU-2025
  bank_ref: "UBS1"
  Assets:Bank:UBS:CHF          94100.00 CHF
  Income:Contributions:Core   -94100.00 CHF
    state_party: "DEU"
    work_plan: "core"
    wp_year: 2025

2025-01-29 * "NORWAY" "ISU 2025" #ISU-2025
  bank_ref: "UBS2"
  Assets:Bank:UBS:CHF          5000.00 CHF
  Income:Contributions:Core   -5000.00 CHF
    state_party: "NOR"
    work_plan: "core"
    wp_year: 2025

2025-06-30 * "UBS" "Account fee"
  Expenses:Bank:Charges   12.00 CHF
  Assets:Bank:UBS:CHF    -12.00 CHF

2026-02-01 * "FINLAND" "ISU 2026" #ISU-2026
  bank_ref: "UBS3"
  Assets:Bank:UBS:CHF          700.00 CHF
  Income:Contributions:Core   -700.00 CHF
    state_party: "FIN"
    work_plan: "core"
    wp_year: 2026
"""


def load_text(text: str):
    entries, errors, _ = loader.load_string(textwrap.dedent(text))
    return entries, errors


def sign_off_line(year: int, fingerprint: str, auditor: str = "A. Auditor") -> str:
    return f'\n2026-04-02 custom "isu-sign-off" {year} "{auditor}" 2026-03-31 "{fingerprint}"\n'


def signed(body: str = BOOKS, year: int = 2025) -> str:
    """HEADER + body with a correct sign-off of ``year`` appended."""
    entries, errors = load_text(HEADER + body)
    assert errors == []
    return HEADER + body + sign_off_line(year, fp.year_fingerprint(entries, year))


def lock_messages(text: str) -> list[str]:
    _, errors = load_text(text)
    return [
        f"{e.source['filename']}:{e.source['lineno']}: {e.message}"
        for e in errors
        if isinstance(e, year_lock.YearLockError)
    ]


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_a_correct_sign_off_passes():
    text = signed()
    entries, errors = load_text(text)
    assert errors == []
    (sign_off,) = year_lock.locked_years(entries).values()
    assert sign_off.year == 2025
    assert sign_off.auditor == "A. Auditor"
    assert sign_off.opinion_date == datetime.date(2026, 3, 31)
    assert sign_off.fingerprint == fp.year_fingerprint(entries, 2025)
    assert sign_off.entry.type == conventions.CUSTOM_LOCK


def test_adding_an_entry_to_the_signed_year_fails_at_the_sign_off():
    text = signed() + textwrap.dedent("""
        2025-12-31 * "UBS" "Late fee"
          Expenses:Bank:Charges   1.00 CHF
          Assets:Bank:UBS:CHF    -1.00 CHF
        """)
    (message,) = lock_messages(text)
    line = line_of(text, 'custom "isu-sign-off"')
    assert message.startswith(
        f"<string>:{line}: year 2025 is signed off (auditor A. Auditor, 2026-03-31): "
        "its entries changed since sign-off (fingerprint "
    )


def test_removing_an_entry_from_the_signed_year_fails():
    text = signed()
    fee = '2025-06-30 * "UBS" "Account fee"\n  Expenses:Bank:Charges   12.00 CHF\n  Assets:Bank:UBS:CHF    -12.00 CHF\n'
    assert fee in text
    (message,) = lock_messages(text.replace(fee, ""))
    assert "year 2025 is signed off" in message


@pytest.mark.parametrize(
    "old, new",
    [
        ("94100.00 CHF\n  Income:Contributions:Core   -94100.00", "94100.01 CHF\n  Income:Contributions:Core   -94100.01"),
        ('state_party: "NOR"', 'state_party: "SWE"'),
        ("2025-06-30 *", "2025-06-30 !"),
        ('"Account fee"', '"Account fees"'),
        ('bank_ref: "UBS2"', 'bank_ref: "UBS2"\n  note: "edited"'),
        ("2025-06-30", "2025-07-01"),
        ("balance Assets:Bank:UBS:CHF  1000.00", "balance Assets:Bank:UBS:CHF  1000.0"),
    ],
)
def test_changing_an_entry_of_the_signed_year_fails(old, new):
    text = signed()
    assert old in text
    messages = lock_messages(text.replace(old, new, 1))
    assert len(messages) == 1 and "year 2025 is signed off" in messages[0], messages


def test_changing_another_year_does_not_fail():
    text = signed()
    changed = text.replace("700.00 CHF\n  Income:Contributions:Core   -700.00", "800.00 CHF\n  Income:Contributions:Core   -800.00")
    assert changed != text
    assert lock_messages(changed) == []
    assert lock_messages(changed + '\n2026-05-01 note Assets:Bank:UBS:CHF "a note"\n') == []


def test_layout_is_not_content():
    """Reordering a day's entries, moving entries between files, reordering
    metadata lines and re-indenting leave the fingerprint unchanged."""
    base_entries, _ = load_text(HEADER + BOOKS)
    base = fp.year_fingerprint(base_entries, 2025)

    deu, nor = BOOKS.split('2025-01-29 * "NORWAY"')
    deu_txn = '2025-01-29 * "FEDERAL' + deu.split('2025-01-29 * "FEDERAL')[1]
    nor_txn = '2025-01-29 * "NORWAY"' + nor.split("2025-06-30")[0]
    swapped = BOOKS.replace(deu_txn + nor_txn, nor_txn + deu_txn)
    assert swapped != BOOKS
    entries, errors = load_text(HEADER + swapped)
    assert errors == [] and fp.year_fingerprint(entries, 2025) == base

    meta_swapped = BOOKS.replace(
        '    state_party: "DEU"\n    work_plan: "core"\n', '    work_plan: "core"\n    state_party: "DEU"\n'
    ).replace("  Expenses:Bank:Charges   12.00 CHF", "  Expenses:Bank:Charges       12.00   CHF")
    entries, errors = load_text(HEADER + meta_swapped)
    assert errors == [] and fp.year_fingerprint(entries, 2025) == base


def test_moving_entries_between_files_keeps_the_fingerprint(tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    (single / "main.beancount").write_text(HEADER + BOOKS, encoding="utf-8")
    entries, errors, _ = loader.load_file(str(single / "main.beancount"))
    assert errors == []
    base = fp.year_fingerprint(entries, 2025)

    split = tmp_path / "split"
    (split / "txns").mkdir(parents=True)
    first, rest = BOOKS.split("2025-06-30")
    (split / "txns" / "a.beancount").write_text("2025-06-30" + rest, encoding="utf-8")
    (split / "txns" / "b.beancount").write_text(first, encoding="utf-8")
    (split / "main.beancount").write_text(
        HEADER + '\ninclude "txns/a.beancount"\ninclude "txns/b.beancount"\n', encoding="utf-8"
    )
    entries, errors, _ = loader.load_file(str(split / "main.beancount"))
    assert errors == []
    assert fp.year_fingerprint(entries, 2025) == base

    # And a sign-off made on one layout holds on the other.
    (split / "main.beancount").write_text(
        (split / "main.beancount").read_text() + sign_off_line(2025, base), encoding="utf-8"
    )
    _, errors, _ = loader.load_file(str(split / "main.beancount"))
    assert errors == []


def test_derived_entries_do_not_count(tmp_path):
    """Padding transactions and document directives are not signed content:
    the plugin (before padding) and a full load (after) agree."""
    entries, _ = load_text(HEADER + BOOKS)
    assert any(e.flag == "P" for e in entries if isinstance(e, data.Transaction))
    without_pad = [e for e in entries if not (isinstance(e, data.Transaction) and e.flag == "P")]
    assert fp.year_fingerprint(without_pad, 2025) == fp.year_fingerprint(entries, 2025)

    statement = tmp_path / "statement.xml"
    statement.write_text("<Document/>", encoding="utf-8")
    with_document = BOOKS + f'\n2025-02-01 document Assets:Bank:UBS:CHF "{statement}"\n'
    entries_doc, errors = load_text(HEADER + with_document)
    assert errors == []
    assert fp.year_fingerprint(entries_doc, 2025) == fp.year_fingerprint(entries, 2025)


def test_a_failing_balance_is_reported_by_beancount_not_as_a_lock_change():
    # Beancount attaches diff_amount to a failing balance after the plugins
    # ran: a sign-off computed from the full load must still hold in the plugin.
    body = BOOKS + "\n2025-03-01 balance Assets:Bank:UBS:CHF  1.00 CHF\n"
    entries, errors = load_text(HEADER + body)
    assert any(isinstance(e, data.Balance) and e.diff_amount for e in entries)
    assert len(errors) == 1 and "Balance failed" in errors[0].message
    text = HEADER + body + sign_off_line(2025, fp.year_fingerprint(entries, 2025))
    _, errors = load_text(text)
    assert [type(e).__name__ for e in errors] == ["BalanceError"]


def test_two_sign_offs_of_one_year_are_an_error():
    text = signed()
    fingerprint = text.rsplit('"', 2)[1]
    doubled = text + sign_off_line(2025, fingerprint, auditor="B. Auditor").replace("2026-04-02", "2026-04-03")
    (message,) = lock_messages(doubled)
    line = line_of(doubled, '"B. Auditor"')
    first = line_of(doubled, '"A. Auditor"')
    assert message == (
        f"<string>:{line}: year 2025 is signed off twice "
        f"(first at <string>:{first}, auditor A. Auditor, 2026-03-31)"
    )


@pytest.mark.parametrize(
    "directive, problem",
    [
        ('2026-04-02 custom "isu-sign-off" 2025 "A. Auditor" 2026-03-31', "has 3 values"),
        ('2026-04-02 custom "isu-sign-off" 2025.5 "A. Auditor" 2026-03-31 "{fp}"', "2025.5 is not a year"),
        ('2026-04-02 custom "isu-sign-off" 2025 "" 2026-03-31 "{fp}"', "names no auditor"),
        ('2026-04-02 custom "isu-sign-off" 2025 "A. Auditor" "2026-03-31" "{fp}"', "is not a date"),
        ('2026-04-02 custom "isu-sign-off" 2025 "A. Auditor" 2026-03-31 "abc"', "abc is not a sha256"),
        ('2026-04-02 custom "isu-sign-off" 2025 "A. Auditor" 2025-12-31 "{fp}"', "not after the year's end"),
        ('2025-12-31 custom "isu-sign-off" 2025 "A. Auditor" 2026-03-31 "{fp}"', "is dated 2025-12-31"),
    ],
)
def test_malformed_sign_offs_are_errors_and_lock_nothing(directive, problem):
    entries, _ = load_text(HEADER + BOOKS)
    text = HEADER + BOOKS + "\n" + directive.format(fp=fp.year_fingerprint(entries, 2025)) + "\n"
    (message,) = lock_messages(text)
    assert message.startswith(f"<string>:{line_of(text, 'isu-sign-off')}: ")
    assert problem in message
    entries, _ = load_text(text)
    assert year_lock.locked_years(entries) == {}


def test_sign_off_entry_round_trips_through_the_printer():
    entries, _ = load_text(HEADER + BOOKS)
    fingerprint = fp.year_fingerprint(entries, 2025)
    entry = year_lock.sign_off_entry(
        2025, "A. Auditor", datetime.date(2026, 3, 31), fingerprint, datetime.date(2026, 4, 2)
    )
    text = printer.format_entry(entry)
    assert text.strip() == sign_off_line(2025, fingerprint).strip()
    assert lock_messages(HEADER + BOOKS + "\n" + text) == []
    with pytest.raises(ValueError):
        year_lock.sign_off_entry(2025, 'A "quoted" name', datetime.date(2026, 3, 31), fingerprint, datetime.date(2026, 4, 2))
    with pytest.raises(ValueError):
        year_lock.sign_off_entry(2025, "A. Auditor", datetime.date(2025, 3, 31), fingerprint, datetime.date(2026, 4, 2))


def test_the_fingerprint_covers_one_year_and_is_versioned():
    entries, _ = load_text(HEADER + BOOKS)
    by_year = fp.year_fingerprints(entries)
    assert by_year[2025] == fp.year_fingerprint(entries, 2025)
    assert by_year[2026] == fp.year_fingerprint(entries, 2026)
    assert by_year[2025] != by_year[2026]
    # An empty year still has a well-defined fingerprint (of nothing).
    assert len(fp.year_fingerprint(entries, 2030)) == 64


def _generated(count: int, seed: int) -> list[data.Transaction]:
    rng = random.Random(seed)
    start = datetime.date(2025, 1, 1)
    entries = []
    for i in range(count):
        number = Decimal(rng.randrange(1, 10_000_000)) / 100
        meta = data.new_metadata(f"txns/{i % 7}.beancount", i)
        meta["bank_ref"] = f"UBS{i:08d}"
        income_meta = data.new_metadata(meta["filename"], i + 2)
        income_meta.update(state_party=rng.choice(["DEU", "NOR", "FIN", "CHE"]), work_plan="core", wp_year=Decimal(2025))
        entries.append(
            data.Transaction(
                meta,
                start + datetime.timedelta(days=i % 365),
                "*",
                f"PAYER {i}",
                "ISU 2025 Core Work Plan",
                frozenset({"ISU-2025"}),
                frozenset({f"bank-UBS{i:08d}"}),
                [
                    data.Posting("Assets:Bank:UBS:CHF", amount.Amount(number, "CHF"), None, None, None, None),
                    data.Posting("Income:Contributions:Core", amount.Amount(-number, "CHF"), None, None, None, income_meta),
                ],
            )
        )
    return entries


def test_fingerprint_of_a_large_generated_ledger():
    entries = _generated(50_000, seed=7)
    value = fp.year_fingerprint(entries, 2025)
    assert len(value) == 64 and int(value, 16) >= 0
    sign_off = year_lock.sign_off_entry(
        2025, "A. Auditor", datetime.date(2026, 3, 31), value, datetime.date(2026, 4, 2)
    )

    # Source location and order are layout: a shuffled copy, in other files
    # and at other lines, still matches the sign-off.
    shuffled = [e._replace(meta={**e.meta, "filename": "other.beancount", "lineno": 1}) for e in entries]
    random.Random(3).shuffle(shuffled)
    _, errors = year_lock.validate_year_lock(shuffled + [sign_off], {})
    assert errors == []

    # One cent anywhere is content.
    victim = entries[31_337]
    bank, income = victim.postings
    cent = Decimal("0.01")
    entries[31_337] = victim._replace(
        postings=[
            bank._replace(units=amount.Amount(bank.units.number + cent, "CHF")),
            income._replace(units=amount.Amount(income.units.number - cent, "CHF")),
        ]
    )
    _, errors = year_lock.validate_year_lock(entries + [sign_off], {})
    assert len(errors) == 1 and "year 2025 is signed off" in errors[0].message


def test_typed_values_are_distinguished():
    """A string "2025" and the number 2025 are different content."""
    (number,) = [e for e in load_text(HEADER + '2025-03-01 note Assets:Bank:UBS:CHF "x"\n  ref: 2025\n')[0] if isinstance(e, data.Note)]
    (string,) = [e for e in load_text(HEADER + '2025-03-01 note Assets:Bank:UBS:CHF "x"\n  ref: "2025"\n')[0] if isinstance(e, data.Note)]
    assert fp.canonical_text(number) != fp.canonical_text(string)


def test_plugin_order_in_a_new_ledger_lists_year_lock_last():
    """The fingerprint assumes year_lock sees what a full load returns."""
    books = Path(__file__).resolve().parents[3] / "ledger" / "books.py"
    if not books.exists():
        pytest.skip("ledger/books.py not present")
    text = books.read_text(encoding="utf-8")
    plugins = [line for line in text.splitlines() if line.startswith('plugin "')]
    assert plugins and plugins[-1] == 'plugin "ledger.plugins.year_lock"'


def test_sign_off_of_a_new_ledger_holds_until_its_year_is_edited(ledger_dir):
    """End to end on a ledger made by ``isu-ledger init`` (2025 opening
    balance), loaded the way the CLI and the web app load it."""
    from ledger.loader import load_books

    books = load_books(ledger_dir)
    assert books.errors == []
    entry = year_lock.sign_off_entry(
        2025,
        "A. Auditor",
        datetime.date(2026, 3, 31),
        fp.year_fingerprint(books.entries, 2025),
        datetime.date(2026, 4, 2),
    )
    year_2026 = ledger_dir / conventions.TXN_DIR / "2026.beancount"
    before = year_2026.read_text(encoding="utf-8") + "\n"
    year_2026.write_text(before + printer.format_entry(entry), encoding="utf-8")
    books = load_books(ledger_dir)
    assert books.errors == []
    assert set(year_lock.locked_years(books.entries)) == {2025}

    year_2025 = ledger_dir / conventions.TXN_DIR / "2025.beancount"
    text = year_2025.read_text(encoding="utf-8")
    assert "612408.15" in text
    year_2025.write_text(text.replace("612408.15", "612408.16"), encoding="utf-8")
    (error,) = load_books(ledger_dir).errors
    line = len(before.splitlines()) + 1
    assert str(error).startswith(
        f"txns/2026.beancount:{line}: year 2025 is signed off (auditor A. Auditor, 2026-03-31)"
    )
