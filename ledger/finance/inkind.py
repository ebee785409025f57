"""Support in kind (disclosed, not booked): ``custom "isu-in-kind"`` entries.

PLACEHOLDER in the stmts branch: replaced by the close branch's module."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from ledger.plugins.isu_rules import as_year

CUSTOM_IN_KIND = "isu-in-kind"


@dataclass(frozen=True)
class InKind:
    year: int
    provider: str
    nature: str
    description: str
    value: Decimal | None
    basis: str


def in_kind(entries, year: int) -> list[InKind]:
    out = []
    for e in entries:
        if isinstance(e, data.Custom) and e.type == CUSTOM_IN_KIND and len(e.values) >= 3 and as_year(e.values[0].value) == year:
            meta = e.meta or {}
            value = meta.get("value")
            out.append(InKind(year, str(e.values[1].value), str(e.values[2].value), str(meta.get("description") or ""),
                              value if isinstance(value, Decimal) else None, str(meta.get("basis") or "")))
    return out
