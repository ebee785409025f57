"""Support in kind: disclosed in the financial statements, never booked.

The GICHD and Switzerland support the ISU in kind (staff support, office
space, finance and HR services, conference facilities, travel). Under the
modified cash basis this is not income; IPSAS-style statements disclose it
in a note, with an estimated value where one is known. Each item is a
ledger entry, so it is versioned, locked with its year and seen by the
auditor::

    2025-12-31 custom "isu-in-kind" 2025 "GICHD" "Office space"
      description: "Offices and meeting rooms at the Maison de la paix"
      value: 96000.00        ; optional: estimated value in CHF
      basis: "GICHD rate per m2 x 120 m2"
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data
from beancount.parser.grammar import ValueType

from ledger.money import cents
from ledger.plugins.isu_rules import as_year

CUSTOM_IN_KIND = "isu-in-kind"
MAX_TEXT = 300


class InKindRefused(ValueError):
    """An in-kind item that cannot be recorded; ``str()`` is one line."""


@dataclass(frozen=True)
class InKind:
    year: int
    provider: str
    nature: str
    description: str
    value: Decimal | None  # estimated, CHF
    basis: str  # how the value was estimated


def in_kind(entries, year: int) -> list[InKind]:
    """The support in kind recorded for ``year``, in book order."""
    out = []
    for e in entries:
        if not (isinstance(e, data.Custom) and e.type == CUSTOM_IN_KIND and len(e.values) >= 3):
            continue
        if as_year(e.values[0].value) != year:
            continue
        meta = e.meta or {}
        value = meta.get("value")
        out.append(InKind(year, str(e.values[1].value), str(e.values[2].value), str(meta.get("description") or ""),
                          value if isinstance(value, Decimal) else None, str(meta.get("basis") or "")))
    return out


def one_line(text: str | None, what: str, *, required: bool = True) -> str:
    """Staff text as ledger text: one line, no quote or backslash (Beancount's
    printer writes custom values as they are)."""
    line = " ".join((text or "").split())
    if required and not line:
        raise InKindRefused(f"{what}: required")
    if len(line) > MAX_TEXT:
        raise InKindRefused(f"{what}: at most {MAX_TEXT} characters")
    if any(ch in line for ch in '"\\') or not line.isprintable():
        raise InKindRefused(f"{what}: may not contain quotes, backslashes or control characters")
    return line


def in_kind_entry(year: int, provider: str, nature: str, description: str, value: Decimal | None = None,
                  basis: str = "", locked=()) -> data.Custom:
    """The entry recording one item of support in kind for ``year`` (dated 31 December)."""
    if year in locked:
        raise InKindRefused(f"{year} is signed off: its disclosures cannot change")
    if value is not None and (not value.is_finite() or value < 0):
        raise InKindRefused(f"value {value}: an estimate in CHF, not negative")
    meta = data.new_metadata("<isu-ledger in-kind>", 0)
    meta["description"] = one_line(description, "description")
    if value is not None:
        meta["value"] = cents(value)
    basis = one_line(basis, "basis", required=False)
    if basis:
        meta["basis"] = basis
    values = [ValueType(Decimal(year), Decimal), ValueType(one_line(provider, "provider"), str),
              ValueType(one_line(nature, "nature"), str)]
    return data.Custom(meta, datetime.date(year, 12, 31), CUSTOM_IN_KIND, values)


__all__ = ["CUSTOM_IN_KIND", "InKind", "InKindRefused", "in_kind", "in_kind_entry", "one_line"]
