"""The review queue as a reconciliation screen: each receipt in suspense as
a card - date, amount, payer, the importer's suggestion with its evidence in
plain words - accepted in one click, resolved by a State picked by name in
any language, several at once, and undone.

Every action is one ledger commit (``importers.review.resolve_many``,
``importers.review_undo.undo``) mirrored as ``ReviewDecision`` rows (and a
``MatchingRule`` when remembered) pointing at that commit, and audited.
A refusal shows the page again with what was typed, naming the receipt by
date, amount and payer."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from werkzeug.datastructures import MultiDict

from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.db import MatchingRule, ReviewDecision
from app.web.views import Refused, acting_user, form_year, ledger_dir, refusals_audited

bp = Blueprint("review", __name__, url_prefix="/review")
RECENT = 8  # decisions listed under the queue, each with its Undo


def items() -> list[dict]:
    from importers.review import list_items

    return list_items(ledger_dir())


def registry():
    from ledger.registry import Registry

    return Registry.load(ledger_dir())


def acceptable(item: dict) -> bool:
    """Whether the item's suggestion may be accepted in one click: a State of
    the registry and one year, no conflict, no choice among several years."""
    from importers.explain import ambiguous_year

    s = item.get("suggestion") or {}
    return bool(
        s.get("state_party") and s.get("year") and not s.get("conflict")
        and s["state_party"] in registry() and not ambiguous_year(s.get("why") or item.get("why"))
    )


def human(exc) -> str:
    """A review refusal for people: the receipt by date, amount and payer, then why."""
    reason = getattr(exc, "reason", None) or str(exc)
    receipt = getattr(exc, "receipt", None)
    return f"{receipt}: {reason}" if receipt else reason[:1].upper() + reason[1:]


def decide(choices: list, *, for_people: bool = False) -> list[tuple[ReviewDecision, object]]:
    """Resolve ``choices`` (``importers.review.Choice``) in one commit;
    each mirrored and audited. ``for_people``: refusals name receipts, not ids."""
    from importers.review import ReviewRefused, resolve_many

    what = "; ".join(f"{c.item} -> {c.state_party} {c.year} {c.work_plan}{' (remember)' if c.remember else ''}" for c in choices)
    with refusals_audited("review.resolve", what, ReviewRefused):
        try:
            done = resolve_many(ledger_dir(), choices, user=acting_user())
        except ReviewRefused as exc:
            if for_people:
                raise ReviewRefused(human(exc)) from None
            raise
    out = []
    for choice, resolved in zip(choices, done, strict=True):
        decision = ReviewDecision(
            item_id=resolved.id,
            bank_ref=resolved.bank_ref,
            state_party=resolved.state_party,
            wp_year=resolved.wp_year,
            work_plan=choice.work_plan,
            remember=resolved.rule is not None,
            user_id=current_user().id,
            commit=resolved.commit,
        )
        db().add(decision)
        db().flush()
        if resolved.rule is not None:
            db().add(MatchingRule(
                payer_account=resolved.rule.payer_account,
                payer_name=resolved.rule.payer_name,
                state_party=resolved.rule.state_party,
                work_plan=resolved.rule.work_plan,
                decision_id=decision.id,
                created_by=current_user().name,
                commit=resolved.commit,
            ))
        out.append((decision, resolved))
    db().commit()
    for choice, (_, resolved) in zip(choices, out, strict=True):
        detail = f"{choice.item} -> {resolved.state_party} {choice.year} {choice.work_plan}: {resolved.bank_ref} -> {resolved.account}"
        record("review.resolve", "ok", detail, commit=resolved.commit)
    return out


def resolve_item(item_id: str, *, state_party: str, year: int, work_plan: str = "core", remember: bool = False) -> ReviewDecision:
    """One receipt, as the API resolves it (refusals as the CLI words them)."""
    from importers.review import Choice

    return decide([Choice(item_id, state_party, year, work_plan, remember)])[0][0]


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


def outcome(resolved, name: str) -> str:
    """What a resolve did, in a sentence - a signed-off year said plainly (DESIGN §2.4, §2.12)."""
    from ledger import conventions

    if resolved.designated_year is not None:
        return (
            f"{resolved.designated_year} is signed off, so {resolved.label} is booked in {resolved.wp_year} "
            f"as a late contribution of {name} designated for {resolved.designated_year}."
        )
    if resolved.account == conventions.ADVANCE:
        return f"{resolved.label} is booked to {name} as an advance for work plan {resolved.wp_year}."
    return f"{resolved.label} is booked to {name}, work plan {resolved.wp_year}."


# --- the page ---------------------------------------------------------------------


def recent(queued: set[str]) -> list[dict]:
    """The latest decision of each recently resolved receipt still resolved
    (not ``queued``), with what to show beside its Undo."""
    from sqlalchemy import select

    from ledger import conventions
    from ledger.loader import load_books

    rows = db().scalars(select(ReviewDecision).order_by(ReviewDecision.id.desc()).limit(RECENT * 3)).all()
    latest: dict[str, ReviewDecision] = {}
    for row in rows:
        latest.setdefault(row.item_id, row)
    chosen = [d for d in latest.values() if d.item_id not in queued][:RECENT]
    if not chosen:
        return []
    refs = {d.bank_ref for d in chosen}
    found = {}
    for entry in load_books(ledger_dir()).entries:
        ref = (getattr(entry, "meta", None) or {}).get(conventions.META_BANK_REF)
        if ref in refs and hasattr(entry, "postings"):
            found.setdefault(ref, entry)
    names = registry()
    out = []
    for d in chosen:
        out.append({
            "decision": d,
            "label": _label(found.get(d.bank_ref), d),
            "state": names.get(d.state_party).name if names.get(d.state_party) else d.state_party,
        })
    return out


def _label(txn, d: ReviewDecision) -> str:
    from importers.review import receipt_label
    from ledger import conventions

    if txn is None:
        return f"the receipt {d.bank_ref}"
    for p in txn.postings:
        meta = p.meta or {}
        if meta.get(conventions.META_STATE_PARTY) == d.state_party:
            return receipt_label(txn.date, -p.units.number, p.units.currency, meta.get(conventions.META_PAYER))
    return f"the receipt of {txn.date.isoformat()}"


def page(*, typed=None, errors=None, problem: str | None = None, status: int = 200):
    """The queue; after a refusal with what was typed, the problem on top and at its receipt."""
    from ledger import conventions

    queue = items()
    for item in queue:
        item["acceptable"] = acceptable(item)
    if problem:
        g.refusal = problem
    body = render_template(
        "review.html", items=queue, recent=recent({i["id"] for i in queue}), typed=typed if typed is not None else MultiDict(), errors=errors or {},
        problem=problem, work_plans=conventions.WORK_PLANS,
    )
    return body, status


@bp.get("/")
@require("review.view")
def index():
    return page()


@bp.post("/")
@require("review.resolve")
def resolve_page():
    """Accept a suggestion (``accept``), resolve one card (``only``), or the
    ticked receipts (``bulk``: ``resolve`` to one State and year, or
    ``accept`` their suggestions) - each one commit."""
    from importers.review import Choice
    from ledger.state_search import StateNotFound, resolve as state_of

    form = request.form
    queue = {i["id"]: i for i in items()}
    target = form.get("accept") or form.get("only")
    try:
        if form.get("accept"):
            choices = [_accepted(queue, form["accept"])]
        elif form.get("only"):
            item_id = form["only"]
            choices = [Choice(
                item_id,
                _state(state_of, form.get(f"sp-{item_id}", ""), queue.get(item_id)),
                form_year(form.get(f"year-{item_id}")),
                form.get(f"wp-{item_id}") or "core",
                bool(form.get(f"remember-{item_id}")),
            )]
        elif form.get("bulk") in ("resolve", "accept"):
            picked = form.getlist("pick")
            if not picked:
                raise Refused("Tick the receipts to resolve first.")
            if form["bulk"] == "accept":
                choices = [_accepted(queue, item_id) for item_id in picked]
            else:
                code = _state(state_of, form.get("bulk-sp", ""), None)
                year = form_year(form.get("bulk-year"))
                choices = [Choice(item_id, code, year, form.get("bulk-wp") or "core") for item_id in picked]
        else:
            raise Refused("Choose what to do: accept a suggestion, resolve one receipt, or tick several.")
        done = decide(choices, for_people=True)
    except (Refused, StateNotFound) as exc:
        if isinstance(exc, StateNotFound):
            record("review.resolve", "refused", f"{target or 'selected'}: {exc}")
        message = str(exc)
        errors = {target: message} if target else {}
        return page(typed=form, errors=errors, problem=message, status=400)
    names = registry()
    lines = [outcome(resolved, names.get(resolved.state_party).name) for _, resolved in done]
    if len(lines) > 1:
        flash(f"Resolved {len(lines)} receipts in one step.", "ok")
    for line in lines:
        flash(line, "ok")
    return redirect(url_for("review.index"), 303)


def _state(state_of, typed: str, item: dict | None) -> str:
    """The code of the State typed (a name in any language, a code, or a picked suggestion)."""
    from ledger.state_search import StateNotFound

    try:
        return state_of(registry(), typed)
    except StateNotFound as exc:
        label = item["label"] if item else None
        raise StateNotFound(f"{label}: {exc}" if label else str(exc)) from None


def _accepted(queue: dict, item_id: str):
    """The choice of accepting ``item_id``'s suggestion, if it may be accepted in one click."""
    from importers.review import Choice

    item = queue.get(item_id)
    if item is None:
        raise Refused("That receipt is no longer in the review queue (resolved meanwhile?).")
    if not acceptable(item):
        s = item.get("suggestion") or {}
        why = s.get("conflict") or ("the evidence is not clear enough" if s else "nothing is suggested")
        raise Refused(f"{item['label']}: no suggestion to accept in one click ({why}); name the State and year.")
    s = item["suggestion"]
    return Choice(item_id, s["state_party"], int(s["year"]), s.get("work_plan") or "core")


@bp.post("/undo/<int:decision_id>")
@require("review.resolve")
def undo_page(decision_id: int):
    try:
        undone = undo_decision(decision_id, for_people=True)
    except Refused as exc:
        return page(problem=str(exc), status=400)
    flash(f"Undone: {undone.label} is back in the review queue." + (" The rule it taught is forgotten." if undone.rule_forgotten else ""), "ok")
    return redirect(url_for("review.index", _anchor=f"item-{undone.id}"), 303)


def undo_decision(decision_id: int, *, for_people: bool = False):
    """Undo review decision ``decision_id`` (one commit, audited); 404 if there is none."""
    from importers.review import ReviewRefused
    from importers.review_undo import undo

    decision = db().get(ReviewDecision, decision_id) if 0 < decision_id < 2**31 else None  # ids are 32-bit
    if decision is None:
        abort(404, f"no review decision {decision_id}")
    what = f"decision {decision_id}: {decision.item_id} -> {decision.state_party} {decision.wp_year} ({decision.commit[:12]})"
    with refusals_audited("review.undo", what, ReviewRefused):
        try:
            undone = undo(ledger_dir(), decision.commit, decision.item_id, user=acting_user())
        except ReviewRefused as exc:
            if for_people:
                raise ReviewRefused(human(exc)) from None
            raise
    record("review.undo", "ok", f"{what}: back in the queue{' (rule forgotten)' if undone.rule_forgotten else ''}",
           commit=undone.commit)
    return undone


def states_json(query: str) -> list[dict]:
    from ledger.state_search import search

    return [hit.to_json() for hit in search(registry(), query[:100])]
