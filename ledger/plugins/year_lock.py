"""Beancount plugin: a signed-off year is frozen.

When the auditor signs off a year, the books record it with

    2026-04-02 custom "isu-sign-off" 2025 "Auditor Name" 2026-03-31 "<sha256>"

(year, auditor, date of the audit opinion, fingerprint of the year's entries
as signed; see ``ledger.fingerprint``). On every load this plugin recomputes
the fingerprint of each signed-off year; if the year's entries changed since
(an entry added, removed or edited, in any file), ``bean-check`` and Fava
report it at the sign-off directive. Entries of other years may change
freely.

The plugin cannot say *which* entry changed (the signed state is not in the
books, only its hash); ``git log`` on the ledger directory can. List this
plugin last in ``main.beancount`` so that it fingerprints the same entries a
full load returns (``ledger.fingerprint`` ignores what the loader derives
after the plugins: padding transactions and balance differences).

``locked_years`` is the API for the writer and year-close code, which refuse
dated writes into a locked year before writing.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any, NamedTuple

from beancount.core import data
from beancount.parser.grammar import ValueType

from ledger import conventions
from ledger import fingerprint as fp
from ledger.plugins.isu_rules import MAX_YEAR, MIN_YEAR, as_year, custom_values

__plugins__ = ("validate_year_lock",)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_USAGE = (
    f'expected: custom "{conventions.CUSTOM_LOCK}" YEAR "Auditor Name" OPINION-DATE "sha256 fingerprint"'
)


class SignOff(NamedTuple):
    """A parsed ``custom "isu-sign-off"`` directive."""

    year: int
    auditor: str
    opinion_date: datetime.date
    fingerprint: str
    entry: data.Custom


class YearLockError(NamedTuple):
    source: dict[str, Any]
    message: str
    entry: Any


def parse_sign_off(entry: data.Custom) -> tuple[SignOff | None, str | None]:
    """``(SignOff, None)`` for a well-formed sign-off, else ``(None, why not)``."""
    values = custom_values(entry)
    if len(values) != 4:
        return None, f"sign-off has {len(values)} values; {_USAGE}"
    raw_year, auditor, opinion_date, fingerprint = values
    year = as_year(raw_year)
    if year is None:
        return None, (
            f"sign-off year {raw_year!s} is not a year (a whole number from "
            f"{MIN_YEAR} to {MAX_YEAR}); {_USAGE}"
        )
    if not isinstance(auditor, str) or not auditor.strip():
        return None, f"sign-off of {year} names no auditor; {_USAGE}"
    if not isinstance(opinion_date, datetime.date):
        return None, f"sign-off of {year}: opinion date {opinion_date!s} is not a date; {_USAGE}"
    if not isinstance(fingerprint, str) or not _SHA256.match(fingerprint):
        return None, (
            f"sign-off of {year}: fingerprint {fingerprint!s} is not a sha256 "
            f"(64 lower-case hex digits); {_USAGE}"
        )
    year_end = datetime.date(year, 12, 31)
    if opinion_date <= year_end:
        return None, f"sign-off of {year}: opinion date {opinion_date} is not after the year's end"
    if entry.date <= year_end:
        return None, f"sign-off of {year} is dated {entry.date}, not after the year's end"
    return SignOff(year, auditor.strip(), opinion_date, fingerprint, entry), None


def _read_sign_offs(entries) -> tuple[dict[int, SignOff], list[YearLockError]]:
    """The first valid sign-off of each year, and an error for every bad or repeated one."""
    locked: dict[int, SignOff] = {}
    errors: list[YearLockError] = []
    for entry in entries:
        if not fp.is_sign_off(entry):
            continue
        sign_off, problem = parse_sign_off(entry)
        if sign_off is None:
            errors.append(YearLockError(entry.meta, problem, entry))
            continue
        first = locked.get(sign_off.year)
        if first is not None:
            where = f"{first.entry.meta.get('filename')}:{first.entry.meta.get('lineno')}"
            errors.append(
                YearLockError(
                    entry.meta,
                    f"year {sign_off.year} is signed off twice (first at {where}, "
                    f"auditor {first.auditor}, {first.opinion_date})",
                    entry,
                )
            )
            continue
        locked[sign_off.year] = sign_off
    return locked, errors


def locked_years(entries) -> dict[int, SignOff]:
    """Every signed-off year and its (first, well-formed) sign-off.

    The writer and the year-close code refuse a dated write into any of these
    years; a malformed sign-off locks nothing (``bean-check`` reports it).
    """
    return _read_sign_offs(entries)[0]


def sign_off_entry(
    year: int,
    auditor: str,
    opinion_date: datetime.date,
    fingerprint: str,
    date: datetime.date,
    meta: dict | None = None,
) -> data.Custom:
    """The ``custom "isu-sign-off"`` entry to write, as the parser would give it.

    Raises ``ValueError`` for values the plugin would reject, and for an
    auditor name Beancount's printer could not write back safely (it does not
    escape custom string values).
    """
    if any(ch in auditor for ch in '"\\\n\r'):
        raise ValueError(
            f"auditor name {auditor!r} may not contain quotes, backslashes or newlines"
        )
    entry = data.Custom(
        meta if meta is not None else data.new_metadata("<isu-ledger>", 0),
        date,
        conventions.CUSTOM_LOCK,
        [
            ValueType(Decimal(int(year)), Decimal),
            ValueType(auditor, str),
            ValueType(opinion_date, datetime.date),
            ValueType(fingerprint, str),
        ],
    )
    _, problem = parse_sign_off(entry)
    if problem:
        raise ValueError(problem)
    return entry


def validate_year_lock(entries, options_map, config=None):
    """Recompute the fingerprint of every signed-off year; entries pass unchanged."""
    del options_map, config
    try:
        locked, errors = _read_sign_offs(entries)
        if not locked:
            return entries, errors
        by_year: dict[int, list] = {year: [] for year in locked}
        for entry in entries:
            group = by_year.get(entry.date.year)
            if group is not None:
                group.append(entry)
        for year, sign_off in sorted(locked.items()):
            current = fp.year_fingerprint(by_year[year], year)
            if current != sign_off.fingerprint:
                errors.append(
                    YearLockError(
                        sign_off.entry.meta,
                        f"year {year} is signed off (auditor {sign_off.auditor}, "
                        f"{sign_off.opinion_date}): its entries changed since sign-off "
                        f"(fingerprint {fp.short(sign_off.fingerprint)} != {fp.short(current)})",
                        sign_off.entry,
                    )
                )
    except Exception as exc:  # noqa: BLE001 - plugins never raise
        source = data.new_metadata("<year_lock>", 0)
        errors = [YearLockError(source, f"year lock not checked: {exc!r}", None)]
    return entries, errors
