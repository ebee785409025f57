"""Who may do what: one table of permissions, read by every page, the API
and the Fava guard, so a role's reach is decided in exactly one place.

The roles: finance staff import and reconcile;
auditors browse the books (Fava), read everything and sign off a closed
year; the Coordinating Committee downloads reports; admins run accounts
and can do what finance does, but never sign off in an auditor's name.
"""

from __future__ import annotations

ADMIN, FINANCE, AUDITOR, COMMITTEE = "admin", "finance", "auditor", "committee"
# Every role, in the order they are listed (``user add --role``, the demo's accounts).
ROLES = (ADMIN, FINANCE, AUDITOR, COMMITTEE)
EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": EVERYONE,
    "reports": EVERYONE,
    "import": frozenset({ADMIN, FINANCE}),
    "review.view": frozenset({ADMIN, FINANCE, AUDITOR}),
    "review.resolve": frozenset({ADMIN, FINANCE}),
    "yearend.view": frozenset({ADMIN, FINANCE, AUDITOR}),
    "yearend.close": frozenset({ADMIN, FINANCE}),
    "yearend.sign_off": frozenset({AUDITOR}),
    "registry.view": frozenset({ADMIN, FINANCE, AUDITOR}),
    "registry.edit": frozenset({ADMIN, FINANCE}),
    "uploads": frozenset({ADMIN, FINANCE}),
    "audit": frozenset({ADMIN, AUDITOR}),
    "users": frozenset({ADMIN}),
    "rules": frozenset({ADMIN, FINANCE}),
    "letters": frozenset({ADMIN, FINANCE}),
    "fava": frozenset({ADMIN, AUDITOR}),
}


def allowed(role: str | None, permission: str) -> bool:
    """True when ``role`` holds ``permission`` (unknown permissions: nobody)."""
    return role is not None and role in PERMISSIONS.get(permission, frozenset())
