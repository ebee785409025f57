"""Beancount plugin: the ISU's rules for contribution transactions.

docs/booking.md is the contract this plugin enforces, so that an entry that
breaks it fails ``bean-check`` and shows in Fava's error list, whoever wrote
it (the importer, the writer, or a person with a text editor):

1. Every posting to an attributed-contribution account (income of a work
   plan, or the advance liability; ``conventions.is_contribution_account``)
   carries ``state_party`` (a code of the registry), ``work_plan`` (matching
   the income account) and ``wp_year`` (a year); its transaction carries the
   tag ``#ISU-<wp_year>``; and it is traceable to the bank: ``bank_ref`` on
   the transaction or the posting, unless the transaction says what else it
   is with ``isu_kind`` (a year-end recognition, a correction, ...).
2. Deferral: income for a work-plan year later than the booking year must sit
   in the advance liability until its year (only a ``recognition`` moves it
   earlier); a credit to the advance liability must be for a later year; a
   ``designated_year`` (late payment for a signed-off year) is earlier than
   the ``wp_year`` it is counted in.
3. Suspense: a posting to ``Income:Contributions:Unidentified`` carries
   ``payer`` or ``remittance`` (the review queue shows them) and never
   ``state_party`` (a posting is attributed or in suspense, never both).

The registry is read once per load (``Registry.load`` keeps one instance per
version of the file); the rules are one pass over the entries.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from beancount.core import data
from beancount.parser.grammar import ValueType

from ledger import conventions

__plugins__ = ("validate_isu_rules",)

#: Work-plan years outside this range are typing errors, not plans.
MIN_YEAR = 1999  # the Convention entered into force on 1 March 1999
MAX_YEAR = 2100

_KINDS = frozenset(conventions.KINDS)


class IsuRuleError(NamedTuple):
    """A broken ISU rule: ``source`` is the posting's (or entry's) metadata."""

    source: dict[str, Any]
    message: str
    entry: Any


def custom_values(entry: data.Custom) -> list[Any]:
    """The Python values of a custom directive's arguments.

    The parser gives ``ValueType(value, dtype)`` tuples; code building a
    Custom entry might pass plain values. Accept both.
    """
    return [v.value if isinstance(v, ValueType) else v for v in entry.values or ()]


def as_year(value: Any) -> int | None:
    """``value`` as a year if it is a whole number in [MIN_YEAR, MAX_YEAR].

    Beancount parses ``wp_year: 2025`` as ``Decimal('2025')``; code may put an
    ``int``. Strings, booleans, fractions and out-of-range numbers are not
    years.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        year = int(value)
    elif isinstance(value, int):
        year = value
    else:
        return None
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _as_ledger_text(value: Any) -> str:
    """A metadata value as it would be written in the ledger."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return f'"{value}"' if isinstance(value, str) else str(value)


def ledger_dir_of(options_map: dict) -> Path | None:
    """The ledger directory: the directory of the top-level file, if a file."""
    filename = options_map.get("filename")
    if not filename or not os.path.isfile(filename):
        return None  # loaded from a string: the packaged registry applies
    return Path(filename).resolve().parent


def registry_codes(options_map: dict) -> tuple[frozenset[str] | None, IsuRuleError | None]:
    """The registry's codes for this ledger, or the one error saying why not.

    ``Registry.load`` caches per (path, mtime, size) of the ledger's
    contributors file, so repeated loads of an unchanged ledger do no I/O.
    """
    ledger_dir = ledger_dir_of(options_map)
    try:
        from ledger.registry import Registry

        return frozenset(Registry.load(ledger_dir).codes()), None
    except Exception as exc:  # noqa: BLE001 - plugins never raise; one error says why
        path = ledger_dir / conventions.REGISTRY_FILE if ledger_dir else Path(conventions.REGISTRY_FILE)
        meta = data.new_metadata(str(path), 0)
        message = f"the contributors registry cannot be read: {exc}; state_party codes not checked"
        return None, IsuRuleError(meta, message, None)


class _Checker:
    """The rules, applied posting by posting; collects errors."""

    def __init__(self, codes: frozenset[str] | None):
        self.codes = codes
        self.errors: list[IsuRuleError] = []
        self._tags: dict[int, str] = {}

    def error(self, meta: dict | None, entry: data.Transaction, message: str) -> None:
        self.errors.append(IsuRuleError(meta or entry.meta, message, entry))

    def tag(self, year: int) -> str:
        tag = self._tags.get(year)
        if tag is None:
            tag = self._tags[year] = conventions.year_tag(year)
        return tag

    def transaction(self, entry: data.Transaction) -> None:
        meta = entry.meta or {}
        kind = meta.get(conventions.META_KIND)
        if kind is not None and kind not in _KINDS:
            self.error(
                meta,
                entry,
                f"{conventions.META_KIND} {_as_ledger_text(kind)} is not one of {', '.join(conventions.KINDS)}",
            )
        if kind == conventions.CLOSING:
            return  # a year-end closing moves balances, it attributes nothing
        has_bank_ref = bool(meta.get(conventions.META_BANK_REF))
        for posting in entry.postings:
            account = posting.account
            if account == conventions.UNIDENTIFIED:
                self.unidentified(entry, posting)
            elif conventions.is_contribution_account(account):
                self.contribution(entry, posting, kind, has_bank_ref)

    def contribution(
        self, entry: data.Transaction, posting: data.Posting, kind: Any, has_bank_ref: bool
    ) -> None:
        account = posting.account
        pmeta = posting.meta or {}
        where = f"contribution posting to {account}"

        state_party = pmeta.get(conventions.META_STATE_PARTY)
        if state_party is None:
            self.error(pmeta, entry, f"{where} has no {conventions.META_STATE_PARTY}")
        elif not isinstance(state_party, str):
            self.error(
                pmeta, entry, f"{where}: {conventions.META_STATE_PARTY} {_as_ledger_text(state_party)} is not a code"
            )
        elif self.codes is not None and state_party not in self.codes:
            self.error(
                pmeta,
                entry,
                f"{conventions.META_STATE_PARTY} {_as_ledger_text(state_party)} is not in the registry "
                f"({conventions.REGISTRY_FILE})",
            )

        work_plan = pmeta.get(conventions.META_WORK_PLAN)
        if work_plan is None:
            self.error(pmeta, entry, f"{where} has no {conventions.META_WORK_PLAN}")
        elif not isinstance(work_plan, str) or not work_plan:
            self.error(
                pmeta, entry, f"{where}: {conventions.META_WORK_PLAN} {_as_ledger_text(work_plan)} is not a work plan"
            )
        elif account != conventions.ADVANCE and conventions.contribution_account(work_plan) != account:
            self.error(
                pmeta,
                entry,
                f"{where}: {conventions.META_WORK_PLAN} {_as_ledger_text(work_plan)} belongs to "
                f"{conventions.contribution_account(work_plan)}, not {account}",
            )

        raw_year = pmeta.get(conventions.META_WP_YEAR)
        wp_year = as_year(raw_year)
        if raw_year is None:
            self.error(pmeta, entry, f"{where} has no {conventions.META_WP_YEAR}")
        elif wp_year is None:
            self.error(
                pmeta,
                entry,
                f"{where}: {conventions.META_WP_YEAR} {_as_ledger_text(raw_year)} is not a year "
                f"(a whole number from {MIN_YEAR} to {MAX_YEAR})",
            )
        else:
            self.year_rules(entry, posting, pmeta, wp_year, kind)

        if not has_bank_ref and not pmeta.get(conventions.META_BANK_REF) and kind not in _KINDS:
            self.error(
                pmeta,
                entry,
                f"{where} has no {conventions.META_BANK_REF} (on the transaction or the posting); "
                f"a transaction that is not a bank receipt says what it is with "
                f"{conventions.META_KIND}: one of {', '.join(conventions.KINDS)}",
            )

    def year_rules(
        self,
        entry: data.Transaction,
        posting: data.Posting,
        pmeta: dict,
        wp_year: int,
        kind: Any,
    ) -> None:
        account = posting.account
        booking_year = entry.date.year
        tag = self.tag(wp_year)
        if not entry.tags or tag not in entry.tags:
            self.error(
                pmeta,
                entry,
                f"transaction with a contribution for {conventions.META_WP_YEAR} {wp_year} has no tag #{tag}",
            )
        if account == conventions.ADVANCE:
            number = posting.units.number if posting.units is not None else None
            if isinstance(number, Decimal) and number < 0 and wp_year <= booking_year:
                self.error(
                    pmeta,
                    entry,
                    f"credit to {conventions.ADVANCE} for {conventions.META_WP_YEAR} {wp_year} is not an advance "
                    f"in {booking_year}: a contribution for {wp_year} booked in {booking_year} "
                    f"is income ({conventions.CONTRIBUTIONS}:<work plan>)",
                )
        elif wp_year > booking_year and kind != "recognition":
            self.error(
                pmeta,
                entry,
                f"advance contribution for {wp_year} must be deferred to {conventions.ADVANCE} "
                f"(booked in {booking_year} to {account})",
            )
        designated = pmeta.get(conventions.META_DESIGNATED_YEAR)
        if designated is not None:
            designated_year = as_year(designated)
            if designated_year is None:
                self.error(
                    pmeta,
                    entry,
                    f"{conventions.META_DESIGNATED_YEAR} {_as_ledger_text(designated)} is not a year "
                    f"(a whole number from {MIN_YEAR} to {MAX_YEAR})",
                )
            elif designated_year >= wp_year:
                self.error(
                    pmeta,
                    entry,
                    f"{conventions.META_DESIGNATED_YEAR} {designated_year} must be earlier than "
                    f"{conventions.META_WP_YEAR} {wp_year} (it names the signed-off year a late "
                    f"payment was meant for)",
                )

    def unidentified(self, entry: data.Transaction, posting: data.Posting) -> None:
        pmeta = posting.meta or {}
        if not pmeta.get(conventions.META_PAYER) and not pmeta.get(conventions.META_REMITTANCE):
            self.error(
                pmeta,
                entry,
                f"unidentified posting to {conventions.UNIDENTIFIED} has neither {conventions.META_PAYER} nor "
                f"{conventions.META_REMITTANCE} (the review queue needs one)",
            )
        if conventions.META_STATE_PARTY in pmeta:
            self.error(
                pmeta,
                entry,
                f"unidentified posting to {conventions.UNIDENTIFIED} carries {conventions.META_STATE_PARTY} "
                f"{_as_ledger_text(pmeta[conventions.META_STATE_PARTY])}: attribute it to "
                f"{conventions.CONTRIBUTIONS}:<work plan> or remove the {conventions.META_STATE_PARTY}",
            )


def validate_isu_rules(entries, options_map, config=None):
    """Check every transaction against the ISU rules; entries pass unchanged.

    ``config`` is not used (the registry is found from the ledger's file).
    """
    del config
    errors: list[IsuRuleError] = []
    codes, registry_error = registry_codes(options_map)
    if registry_error is not None:
        errors.append(registry_error)
    checker = _Checker(codes)
    Transaction = data.Transaction
    for entry in entries:
        if type(entry) is Transaction:
            try:
                checker.transaction(entry)
            except Exception as exc:  # noqa: BLE001 - plugins never raise
                message = f"ISU rules could not check this transaction: {exc!r}"
                checker.error(entry.meta, entry, message)
    errors.extend(checker.errors)
    return entries, errors
