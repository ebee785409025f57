"""The fingerprint of a year of books: what an auditor signs off.

When the auditor signs off a year, the sign-off directive records a SHA-256
over the *content* of every entry dated in that year. The ``year_lock`` plugin
recomputes it on every load; any difference means the signed-off books were
changed afterwards.

The fingerprint must change when, and only when, the accounting content of
the year changes. So it is computed over a canonical, typed rendering of each
entry's fields (see ``canonical_text``) that leaves out everything that is
layout rather than content:

- ``filename`` / ``lineno`` and the loader's private ``__...`` metadata;
- the order of metadata lines (keys are sorted);
- the order of entries within one day, and which file an entry sits in
  (renderings are sorted by date, directive type, then text);
- the ledger-wide display precision (numbers are rendered exactly as
  written, whatever other years contain);
- what the loader derives rather than reads: ``document`` directives (the
  ``documents`` option synthesises them from the file system, whose absolute
  paths differ between machines), padding transactions synthesised from a
  ``pad`` directive (the ``pad`` itself is fingerprinted), and the
  ``diff_amount`` the balance check attaches to a failing ``balance``;
- the sign-off directives themselves (a sign-off cannot contain its own
  hash, and a later year's sign-off may be dated in this year).

Posting order, tags, links, amounts, flags, payees, narrations and metadata
values are content and change the fingerprint.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from decimal import Decimal

from beancount.core import data, flags

from ledger import conventions

#: Bumped if the canonical rendering ever changes (old sign-offs would then
#: have to be re-signed, so this should never happen casually).
FINGERPRINT_VERSION = "isu-ledger-fingerprint-v1"

# Opening first, closing last within a day, as Beancount sorts them.
_TYPE_ORDER = {
    data.Open: 0,
    data.Commodity: 1,
    data.Pad: 2,
    data.Balance: 3,
    data.Transaction: 4,
    data.Note: 5,
    data.Event: 6,
    data.Query: 7,
    data.Price: 8,
    data.Custom: 9,
    data.Close: 10,
}

_PAD_NARRATION = "(Padding inserted"


def is_sign_off(entry: data.Directive) -> bool:
    return isinstance(entry, data.Custom) and entry.type == conventions.CUSTOM_LOCK


def is_fingerprinted(entry: data.Directive) -> bool:
    """True if ``entry`` is part of its year's signed content (see module doc)."""
    if isinstance(entry, data.Document) or is_sign_off(entry):
        return False
    if (
        isinstance(entry, data.Transaction)
        and entry.flag == flags.FLAG_PADDING
        and (entry.narration or "").startswith(_PAD_NARRATION)
    ):
        return False
    return True


def _value(value) -> str:
    """A typed, unambiguous, locale- and precision-free rendering of a value.

    Strings are quoted (so ``"2025"`` differs from the number ``2025``);
    Decimals keep their written exponent (``1.50`` differs from ``1.5``, as
    in the ledger text); tuples such as ``Amount``, ``Cost`` or a custom
    directive's ``ValueType`` are rendered field by field; sets are sorted.
    """
    render = _RENDER.get(type(value))
    if render is not None:
        return render(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return "#" + str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return _meta(value)
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(map(_value, value))) + "}"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__ + "(" + ",".join(map(_value, value)) + ")"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(_value, value)) + "]"
    return repr(value)


# Exact-type fast paths for the values that make up nearly all metadata.
_RENDER = {
    str: repr,
    Decimal: lambda value: "#" + str(value),
    datetime.date: datetime.date.isoformat,
    type(None): lambda value: "~",
    bool: lambda value: "TRUE" if value else "FALSE",
}

_SKIP_META = frozenset(("filename", "lineno"))


def _meta(meta: dict | None) -> str:
    """Metadata without source location or loader internals, keys sorted.

    Values are rendered by ``repr``: typed (``'2025'`` vs ``Decimal('2025')``)
    and, for the str/Decimal/date/bool/Amount values metadata holds, stable.
    """
    if not meta:
        return "[]"
    return repr(
        [
            item
            for item in sorted(meta.items())
            if item[0] not in _SKIP_META and not item[0].startswith("__")
        ]
    )


def _amount(amount) -> str:
    if amount is None:
        return "~"
    return f"#{amount.number} {amount.currency}"


def _set(values) -> str:
    return repr(sorted(values)) if values else "[]"


def _transaction(entry: data.Transaction) -> str:
    # The hot path (nearly all entries): written out rather than generic.
    parts = [
        f"{entry.date.isoformat()} {_TYPE_ORDER[data.Transaction]:02d} {entry.flag!r}"
        f" {entry.payee!r} {entry.narration!r} tags={_set(entry.tags)}"
        f" links={_set(entry.links)} {_meta(entry.meta)}"
    ]
    for posting in entry.postings:
        cost = posting.cost
        parts.append(
            f"  {posting.account} {_amount(posting.units)}"
            f" {'~' if cost is None else _value(cost)}"
            f" @{_amount(posting.price)} {posting.flag!r} {_meta(posting.meta)}"
        )
    return "\n".join(parts)


def canonical_text(entry: data.Directive) -> str:
    """The layout-independent rendering of one entry's content.

    It starts with the date and the directive's rank within a day, so sorting
    the renderings sorts by (date, type, content). It is not Beancount
    syntax: Beancount's printer costs ~100 us per entry (it aligns columns
    and consults a display context), ten seconds for a 100,000-entry ledger,
    where this typed rendering of the entry's fields is several times faster
    and just as canonical.
    """
    if type(entry) is data.Transaction:
        return _transaction(entry)
    fields = []
    for name in entry._fields:
        if name in ("meta", "date"):
            continue
        value = getattr(entry, name)
        if name == "diff_amount":  # set by the balance check, not by the ledger
            value = None
        fields.append(f"{name}={_value(value)}")
    return (
        f"{entry.date.isoformat()} {_TYPE_ORDER.get(type(entry), 99):02d}"
        f" {type(entry).__name__} {' '.join(fields)} {_meta(entry.meta)}"
    )


def year_entries(entries: Iterable[data.Directive], year: int) -> list[data.Directive]:
    """The entries whose content the fingerprint of ``year`` covers."""
    return [e for e in entries if e.date.year == year and is_fingerprinted(e)]


def year_fingerprint(entries: Iterable[data.Directive], year: int) -> str:
    """SHA-256 (hex) over the canonical content of every entry dated in ``year``.

    ``entries`` may be the whole ledger; only entries dated in ``year`` count.
    Compute it over the entries as fully loaded (``loader.load_file``); the
    ``year_lock`` plugin, listed last among the plugins, sees the same ones.
    """
    year = int(year)
    rendered = sorted(map(canonical_text, year_entries(entries, year)))
    digest = hashlib.sha256()
    digest.update(f"{FINGERPRINT_VERSION}\n{year}\n".encode())
    for text in rendered:
        # A record separator (never produced by the rendering) keeps entries from
        # running into each other ambiguously.
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def year_fingerprints(entries: Iterable[data.Directive]) -> dict[int, str]:
    """The fingerprint of every year that has fingerprinted entries, in one pass."""
    by_year: dict[int, list[data.Directive]] = {}
    for entry in entries:
        if is_fingerprinted(entry):
            by_year.setdefault(entry.date.year, []).append(entry)
    return {year: year_fingerprint(group, year) for year, group in sorted(by_year.items())}


def short(fingerprint: str) -> str:
    """A fingerprint abbreviated for messages (first 12 hex digits)."""
    return fingerprint[:12] + "…" if len(fingerprint) > 12 else fingerprint


__all__ = [
    "FINGERPRINT_VERSION",
    "canonical_text",
    "is_fingerprinted",
    "is_sign_off",
    "short",
    "year_entries",
    "year_fingerprint",
    "year_fingerprints",
]
