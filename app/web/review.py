"""The review queue: receipts in suspense, with the importer's suggestion
and why; resolve one, or several at once, optionally remembering a rule.

Each resolve is ``importers.review.resolve`` - one ledger commit - mirrored as
a ``ReviewDecision`` (and a ``MatchingRule`` when remembered) pointing at
that commit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.db import MatchingRule, ReviewDecision
from app.web.views import Refused, acting_user, form_year, ledger_dir, refusals_audited

bp = Blueprint("review", __name__, url_prefix="/review")


def items() -> list[dict]:
    from importers.review import list_items

    return list_items(ledger_dir())


def resolve_item(item_id: str, *, state_party: str, year: int, work_plan: str = "core", remember: bool = False) -> ReviewDecision:
    from importers.review import ReviewRefused, resolve

    what = f"{item_id} -> {state_party} {year} {work_plan}{' (remember)' if remember else ''}"
    with refusals_audited("review.resolve", what, ReviewRefused):
        done = resolve(ledger_dir(), item_id, state_party=state_party, year=year, work_plan=work_plan, remember=remember, user=acting_user())
    decision = ReviewDecision(
        item_id=done.id,
        bank_ref=done.bank_ref,
        state_party=done.state_party,
        wp_year=done.wp_year,
        work_plan=work_plan,
        remember=done.rule is not None,
        user_id=current_user().id,
        commit=done.commit,
    )
    db().add(decision)
    db().flush()
    if done.rule is not None:
        db().add(MatchingRule(
            payer_account=done.rule.payer_account,
            payer_name=done.rule.payer_name,
            state_party=done.rule.state_party,
            work_plan=done.rule.work_plan,
            decision_id=decision.id,
            created_by=current_user().name,
            commit=done.commit,
        ))
    db().commit()
    record("review.resolve", "ok", f"{what}: {done.bank_ref} -> {done.account}", commit=done.commit)
    return decision


def decision_json(d: ReviewDecision) -> dict:
    return {
        "id": d.item_id,
        "bank_ref": d.bank_ref,
        "state_party": d.state_party,
        "year": d.wp_year,
        "work_plan": d.work_plan,
        "remember": d.remember,
        "commit": d.commit,
    }


@bp.get("/")
@require("review.view")
def index():
    return render_template("review.html", items=items())


@bp.post("/")
@require("review.resolve")
def resolve_page():
    """Resolve the item of the button pressed (``only``), or every ticked item."""
    form = request.form
    chosen = [form["only"]] if form.get("only") else form.getlist("pick")
    if not chosen:
        flash("Tick at least one receipt to resolve.", "error")
        return redirect(url_for("review.index"))
    done = 0
    for item_id in chosen:
        try:
            resolve_item(
                item_id,
                state_party=form.get(f"sp-{item_id}", ""),
                year=form_year(form.get(f"year-{item_id}")),
                work_plan=form.get(f"wp-{item_id}") or "core",
                remember=bool(form.get(f"remember-{item_id}")),
            )
            done += 1
        except Refused as exc:
            flash(f"{item_id}: {exc}", "error")
    if done:
        flash(f"Resolved {done} receipt(s).", "ok")
    return redirect(url_for("review.index"), 303)
