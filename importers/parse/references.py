"""Check digits of structured creditor references.

The algorithms come from ``python-stdnum`` (a well-kept library of standard
number formats): Swiss QR/ISR references use the mod-10 recursive check
(``stdnum.ch.esr``), creditor references ``RF..`` use ISO 11649
(``stdnum.iso11649``). A failing check is a *warning* for the importer, never
a refusal: real bank files carry references that fail their own checks.
"""

from __future__ import annotations

from stdnum import iso11649
from stdnum.ch import esr

# Declared reference types (Tp/CdOrPrtry/Cd or Prtry), normalised to a scheme.
_MOD10_TYPES = {"QRR", "ISR", "ISR REFERENCE", "ESR", "ESR REFERENCE", "BVR", "IPI"}
_SCOR_TYPES = {"SCOR"}


def scheme(reference: str, declared_type: str | None) -> str | None:
    """The check scheme of a reference: "mod10", "iso11649" or None (no check).

    The declared type wins; without one the shape decides (27 digits: a
    QR/ISR reference; ``RF`` + 2 digits: ISO 11649).
    """
    kind = (declared_type or "").strip().upper()
    if kind in _MOD10_TYPES:
        return "mod10"
    compact = reference.replace(" ", "")
    is_rf = compact.upper().startswith("RF") and compact[2:4].isdigit()
    if kind in _SCOR_TYPES:
        # SCOR also carries national creditor references (e.g. Finnish "3900"),
        # whose check is not ISO 11649: only RF references are checked.
        return "iso11649" if is_rf else None
    if kind:
        return None
    if compact.isdigit() and len(compact) == 27:
        return "mod10"
    if is_rf:
        return "iso11649"
    return None


def is_valid(reference: str, declared_type: str | None) -> bool | None:
    """True/False when the reference has check digits to verify, else None."""
    kind = scheme(reference, declared_type)
    if kind == "mod10":
        compact = reference.replace(" ", "")
        return compact.isdigit() and len(compact) in (16, 27) and esr.is_valid(compact)
    if kind == "iso11649":
        return iso11649.is_valid(reference)
    return None


def check_name(reference: str, declared_type: str | None) -> str:
    """Human name of the check, for warnings."""
    return {"mod10": "mod-10 recursive", "iso11649": "ISO 11649"}.get(
        scheme(reference, declared_type) or "", "check-digit"
    )
