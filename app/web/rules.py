"""Matching rules page (finance, admin): the payers the importer has been
taught to identify ("this account is Norway"), who taught it and when, and
a button to forget one (a ledger commit through the writer, audited).
Rules are learned when a review item is resolved with "remember"."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.web.audit import record
from app.web.auth import require
from app.web.views import Refused, acting_user, ledger_dir, refusals_audited

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.get("/")
@require("rules")
def index():
    from importers.learned_rules import load_rules
    from ledger.registry import Registry
    from ledger.rules import RulesError

    try:
        rules, problem = load_rules(ledger_dir()), None
    except RulesError as exc:
        rules, problem = [], str(exc)
    names = {c.iso3: c.name for c in Registry.load(ledger_dir()).contributors()}
    return render_template("rules.html", rules=rules, names=names, problem=problem)


@bp.post("/forget")
@require("rules")
def forget():
    from importers.learned_rules import RuleNotFound, forget_rule
    from ledger.rules import RulesError

    account, name = request.form.get("payer_account") or None, request.form.get("payer_name") or None
    who = account or name or "(none)"
    try:
        with refusals_audited("rules.forget", who, RuleNotFound, RulesError):
            rule, commit = forget_rule(ledger_dir(), account, name, user=acting_user())
    except Refused as exc:
        flash(str(exc), "error")
        return redirect(url_for("rules.index"), 303)
    record("rules.forget", "ok", f"{who} -> {rule.state_party} (learned by {rule.created_by} on {rule.created_at[:10]})", commit=commit)
    flash(f"Rule forgotten: payments from {who} are no longer identified as {rule.state_party} automatically.", "ok")
    return redirect(url_for("rules.index"), 303)
