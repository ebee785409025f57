"""The working language of a State's letters, set by staff in the ledger's
registry file (``registry/contributors.csv``, column ``language``).

One of ``registry.LANGUAGES`` (English, French, Spanish); a State without
one gets English. The change is one commit through the ledger writer, the
new file validated as the importer's load validates it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ledger import conventions
from ledger.registry import LANGUAGES, Contributor, Registry, RegistryError, parse_csv, render_csv


class LanguageRefused(ValueError):
    """A language that cannot be set; ``str()`` is one line."""


def check_language(registry: Registry, iso3: str, language: str) -> None:
    """Refuse an unknown contributor or language (one line)."""
    if iso3 not in registry:
        raise LanguageRefused(f"{iso3 or '(empty)'}: not a contributor in the registry")
    if language not in LANGUAGES:
        raise LanguageRefused(f"{language or '(empty)'}: not a letter language ({', '.join(LANGUAGES)})")


def language_csv(ledger_dir: Path, languages: dict[str, str]) -> str:
    """The ledger's registry file with the languages of ``languages`` (ISO3 -> language) set, validated."""
    path = Path(ledger_dir) / conventions.REGISTRY_FILE
    text = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
    try:
        rows = {c.iso3: c for _, c in parse_csv(text, conventions.REGISTRY_FILE)} if text.strip() else {}
        for iso3, language in languages.items():
            row = rows.get(iso3) or Contributor(iso3=iso3, iso2=None, name="", kind="")
            rows[iso3] = dataclasses.replace(row, language=language)
        new_text = render_csv(rows.values())
        Registry.from_csv_text(new_text, conventions.REGISTRY_FILE)
    except RegistryError as exc:
        raise LanguageRefused(str(exc)) from None
    return new_text


def set_language(ledger_dir: Path, iso3: str, language: str, user: str) -> str | None:
    """Set the letter language of ``iso3``; the commit sha, or None when it
    already was ``language`` (nothing written)."""
    from ledger.store.writer import LedgerWriter

    iso3, language = (iso3 or "").strip().upper(), (language or "").strip().lower()
    registry = Registry.load(ledger_dir)
    check_language(registry, iso3, language)
    if (registry.get(iso3).language or "en") == language:
        return None
    new_text = language_csv(ledger_dir, {iso3: language})
    with LedgerWriter(ledger_dir, user=user, action=f"registry language {iso3} {language}") as writer:
        writer.write_text(conventions.REGISTRY_FILE, new_text)
    return writer.commit
