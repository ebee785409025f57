"""States Parties and aliases: the registry the importer matches payers
against, and the staff's additions to it.

An alias added here is written to the ledger's ``registry/contributors.csv``
through the ledger writer (one commit). Before anything is written, the
alias must pass ``Registry.alias_refusal`` (not generic, not contribution
wording, long enough, naming no other contributor) and the whole new file
``Registry.from_csv_text`` - the same validation the importer's load does."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.web.audit import record
from app.web.auth import require
from app.web.views import Refused, acting_user, ledger_dir, ledger_errors, ledger_refusal, refusals_audited

LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish"}  # the languages of letters (ledger.registry.LANGUAGES)

bp = Blueprint("registry", __name__, url_prefix="/registry")


def contributors() -> list:
    from ledger.registry import Registry

    return sorted(Registry.load(ledger_dir()).contributors(), key=lambda c: (c.kind != "state_party", c.name))


def add_alias(iso3: str, alias: str) -> str | None:
    """Add ``alias`` to contributor ``iso3`` in the ledger's registry file; the commit sha."""
    from ledger import conventions
    from ledger.registry import (
        Contributor,
        Registry,
        RegistryError,
        parse_csv,
        render_csv,
    )
    from ledger.store.writer import LedgerWriter

    iso3 = (iso3 or "").strip().upper()
    alias = " ".join((alias or "").split())
    if not alias:
        raise Refused("alias: give the name as it appears on statements")
    refusal = Registry.load(ledger_dir()).alias_refusal(iso3, alias)
    if refusal:
        raise Refused(refusal)
    path = ledger_dir() / conventions.REGISTRY_FILE
    text = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
    try:
        rows = [c for _, c in parse_csv(text, conventions.REGISTRY_FILE)] if text.strip() else []
        by_code = {c.iso3: c for c in rows}
        row = by_code.get(iso3) or Contributor(iso3=iso3, iso2=None, name="", kind="")
        by_code[iso3] = dataclasses.replace(row, aliases=row.aliases + (alias,))
        new_text = render_csv(by_code.values())
        Registry.from_csv_text(new_text, conventions.REGISTRY_FILE)
    except RegistryError as exc:
        raise Refused(str(exc).replace(f"{conventions.REGISTRY_FILE}:", "").strip(" 0123456789:")) from None
    try:
        with LedgerWriter(ledger_dir(), user=acting_user(), action=f"registry alias {iso3} {alias}") as writer:
            writer.write_text(conventions.REGISTRY_FILE, new_text)
    except ledger_errors() as exc:
        raise ledger_refusal(exc) from None
    return writer.commit


@bp.post("/language")
@require("registry.edit")
def language():
    """Set the working language of a State's letters (one ledger commit)."""
    from ledger.registry_language import LanguageRefused, set_language

    iso3, lang = (request.form.get("iso3") or "").strip().upper(), (request.form.get("language") or "").strip().lower()
    try:
        with refusals_audited("registry.language", f"{iso3} {lang}", LanguageRefused):
            commit = set_language(ledger_dir(), iso3, lang, acting_user())
    except Refused as exc:
        flash(str(exc), "error")
        return redirect(url_for("registry.index"), 303)
    if commit is None:
        flash(f"The letters to {iso3} were already in that language; nothing changed.", "ok")
    else:
        record("registry.language", "ok", f"{iso3}: letters in {lang}", commit=commit)
        flash(f"Letters to {iso3} will be written in {LANGUAGE_NAMES[lang]}.", "ok")
    return redirect(url_for("registry.index", q=iso3), 303)


def contributor_json(c) -> dict:
    return {"iso3": c.iso3, "iso2": c.iso2, "name": c.name, "kind": c.kind, "aliases": list(c.aliases), "ministries": list(c.ministries)}


@bp.get("/")
@require("registry.view")
def index():
    query = (request.args.get("q") or "").strip().lower()
    rows = contributors()
    if query:
        rows = [c for c in rows if query in c.iso3.lower() or query in c.name.lower() or any(query in a.lower() for a in c.aliases)]
    return render_template("registry.html", rows=rows, q=query, languages=LANGUAGE_NAMES)


@bp.post("/alias")
@require("registry.edit")
def alias():
    iso3, name = request.form.get("iso3", ""), request.form.get("alias", "")
    try:
        commit = add_alias(iso3, name)
    except Refused as exc:
        record("registry.alias", "refused", f"{iso3} {name!r}: {exc}")
        flash(str(exc), "error")
        return redirect(url_for("registry.index"), 303)
    record("registry.alias", "ok", f"{iso3.upper()}: alias {name!r}", commit=commit)
    flash(f"Alias added to {iso3.upper()}.", "ok")
    return redirect(url_for("registry.index", q=iso3), 303)
